"""Django is set up here, and only here, so the rest of tests/ never sees it.

Each session gets its own directory for the SQLite database and the state directory,
through the environment that tests/django/settings.py reads: made when pytest loads this
file (before it imports the test modules, which need Django set up), removed at the end.
Fixtures only: the helpers the tests share are in tests/django/helpers.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import django
import pytest
from django.core.management import call_command

from lazycron import Registry, Scheduler, default_registry
from lazycron.django import runtime
from lazycron.testing import FakeClock


def pytest_configure(config: pytest.Config) -> None:
    os.environ["LAZYCRON_TEST_VAR"] = tempfile.mkdtemp(prefix="lazycron-django-tests-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.django.settings"
    django.setup()


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.pop("LAZYCRON_TEST_VAR"), ignore_errors=True)


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
