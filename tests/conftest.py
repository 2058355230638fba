"""Shared fixtures: an injected clock, a private registry and state directory.

Fixtures only: the helpers tests share are in tests/helpers/."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import lazycron
from lazycron import Registry, Scheduler
from lazycron.testing import FakeClock

# Every test under these directories starts real servers: marked so that
# `-m "not integration"` leaves them out.
INTEGRATION_DIRS = (Path(__file__).parent / "integration", Path(__file__).parent / "multihost")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(directory in item.path.parents for directory in INTEGRATION_DIRS):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def scheduler(registry: Registry, state_dir: Path, clock: FakeClock) -> Scheduler:
    """A scheduler on the private registry, state directory and fake clock (the WSGI and
    ASGI middleware tests wrap it)."""
    return Scheduler(registry, state_dir=state_dir, clock=clock, check_interval=0)


@pytest.fixture
def make_scheduler(
    registry: Registry, state_dir: Path, clock: FakeClock
) -> Iterator[Callable[..., Scheduler]]:
    made: list[Scheduler] = []

    def make(**options: Any) -> Scheduler:
        options.setdefault("state_dir", state_dir)
        options.setdefault("clock", clock)
        options.setdefault("check_interval", 0)
        scheduler = Scheduler(registry, **options)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        assert scheduler.wait_idle(10), "a lazycron thread was still running after the test"


@pytest.fixture
def calls(registry: Registry) -> Callable[..., list[float]]:
    """Declare a job that records the fake time of each of its runs."""

    def declare(*args: Any, clock: FakeClock, **kwargs: Any) -> list[float]:
        seen: list[float] = []
        kwargs.setdefault("name", "job")

        @lazycron.job(*args, registry=registry, **kwargs)
        def record() -> None:
            seen.append(clock.time())

        return seen

    return declare


@pytest.fixture
def lazycron_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="lazycron")
    return caplog
