"""Autodiscovery of <app>/cron.py from AppConfig.ready()."""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

import lazycron
from lazycron.django import discovery

from .helpers import run_django


def test_lazycron_in_installed_apps_uses_our_app_config() -> None:
    assert type(apps.get_app_config("lazycron")).__name__ == "LazycronConfig"


def test_jobs_in_cron_py_are_found_at_startup() -> None:
    assert "testapp.nightly" in lazycron.default_registry
    assert "testapp.utc" in lazycron.default_registry
    assert discovery.failures() == []


def test_apps_without_cron_py_are_fine_and_discovery_is_idempotent() -> None:
    before = len(lazycron.default_registry)
    assert discovery.autodiscover() == ["tests.django.testapp.cron"]
    assert len(lazycron.default_registry) == before


def test_a_cron_py_that_fails_to_import_stops_django_at_startup() -> None:
    result = run_django("import django; django.setup()", extra_apps="tests.django.badapps.broken")
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(
        "django.core.exceptions.ImproperlyConfigured: lazycron: could not import "
        "tests.django.badapps.broken.cron ("
    )
    assert "ModuleNotFoundError: No module named 'lazycron_no_such_module'" in last_line
    # The original exception is chained, with its traceback.
    assert "The above exception was the direct cause" in result.stderr


def test_a_declaration_error_blocks_every_way_of_running_jobs() -> None:
    code = (
        "import django; django.setup()\n"
        "from lazycron.middleware import LazyCronMiddleware\n"
        "LazyCronMiddleware(lambda request: None)\n"
    )
    result = run_django(code, extra_apps="tests.django.badapps.badexpr")
    assert result.returncode == 1
    assert ImproperlyConfigured.__name__ in result.stderr
    assert "tests.django.badapps.badexpr.cron: job 'badexpr.job'" in result.stderr
