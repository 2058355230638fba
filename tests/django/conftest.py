"""Django is set up here, and only here, so the rest of tests/ never sees it.

Each session gets its own directory for the SQLite database and the state directory,
through the environment that tests/django/settings.py reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_var = tempfile.mkdtemp(prefix="lazycron-django-tests-")
os.environ["LAZYCRON_TEST_VAR"] = _var
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.django.settings"

import django  # noqa: E402 - the environment above must be set first

django.setup()

from django.core.management import call_command  # noqa: E402

from lazycron import Registry, Scheduler, default_registry  # noqa: E402
from lazycron.django import runtime  # noqa: E402

from ..conftest import FakeClock  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def database() -> None:
    call_command("migrate", verbosity=0)


@pytest.fixture(autouse=True)
def only_the_test_sites_jobs() -> Iterator[None]:
    """The default registry holds the test site's jobs (from its cron.py) and, in a whole
    run, jobs that other test modules declared when they were imported (tests/apps/cliapps
    declares one every 5 s). The site's system checks must judge the site's jobs alone."""
    others = [job for job in default_registry if not job.name.startswith("testapp.")]
    for job in others:
        default_registry.remove(job.name)
    yield
    for job in others:
        if job.name not in default_registry:
            default_registry.add(job)


@pytest.fixture
def site(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., Scheduler]]:
    """Build the Django scheduler (settings, ORM job context) on a private registry,
    state directory and fake clock, and install it as the one the middleware uses."""
    made: list[Scheduler] = []

    def make(registry: Registry, **options: Any) -> Scheduler:
        options.setdefault("state_dir", tmp_path / "state")
        options.setdefault("clock", clock)
        options.setdefault("check_interval", 0)
        scheduler = runtime.build_scheduler(registry=registry, **options)
        runtime.install(scheduler)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        assert scheduler.wait_idle(10), "a lazycron thread was still running after the test"
    runtime.reset()


def run_django(
    code: str, *, extra_apps: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with the test settings (plus ``extra_apps``)."""
    environment = {
        **os.environ,
        "LAZYCRON_TEST_EXTRA_APPS": extra_apps,
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
