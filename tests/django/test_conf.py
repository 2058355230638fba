"""The LAZYCRON setting: read lazily, validated key by key, and override_settings works."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import override_settings

from lazycron.django import runtime
from lazycron.django.conf import LazyCronSettings, get_settings, read_settings


@pytest.fixture(autouse=True)
def fresh() -> None:
    runtime.reset()


def test_defaults_when_the_setting_is_absent() -> None:
    with override_settings(LAZYCRON=None, TIME_ZONE="UTC"):
        assert get_settings() == LazyCronSettings()


def test_values_are_read_and_converted(tmp_path: Path) -> None:
    raw = {"STATE_DIR": str(tmp_path), "CHECK_INTERVAL": 5, "HISTORY_LIMIT": 3, "ENABLED": True}
    with override_settings(LAZYCRON=raw):
        conf = get_settings()
    assert conf.state_dir == tmp_path
    assert conf.check_interval == 5.0 and isinstance(conf.check_interval, float)
    assert conf.history_limit == 3
    assert conf.time_zone == "Europe/Berlin"  # settings.TIME_ZONE, from the test settings


@pytest.mark.parametrize(
    ("value", "seconds"), [("30s", 30.0), ("1m30s", 90.0), (timedelta(seconds=2), 2.0), ("0s", 0.0)]
)
def test_check_interval_takes_the_duration_forms_of_every(value: object, seconds: float) -> None:
    with override_settings(LAZYCRON={"CHECK_INTERVAL": value}):
        assert get_settings().check_interval == seconds


def test_override_settings_reaches_the_scheduler(tmp_path: Path) -> None:
    with override_settings(
        LAZYCRON={"STATE_DIR": tmp_path, "CHECK_INTERVAL": 7, "HISTORY_LIMIT": 4},
        TIME_ZONE="America/New_York",
    ):
        scheduler = runtime.active_scheduler()
        assert scheduler is not None
        assert scheduler.check_interval == 7
        assert scheduler.backend.location == str(tmp_path)
        assert scheduler.runner.default_zone == ZoneInfo("America/New_York")
        assert scheduler.runner.history_limit == 4
    # Leaving the override rebuilds from the test settings.
    scheduler = runtime.active_scheduler()
    assert scheduler is not None and scheduler.check_interval == 30


def test_enabled_false_turns_the_middleware_off(tmp_path: Path) -> None:
    with override_settings(LAZYCRON={"STATE_DIR": tmp_path, "ENABLED": False}):
        assert runtime.active_scheduler() is None
        # The management command still has a scheduler: ENABLED governs requests only.
        assert runtime.get_scheduler().backend.location == str(tmp_path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"CHECK_INTERVALL": 5}, "unknown key 'CHECK_INTERVALL'; did you mean 'CHECK_INTERVAL'?"),
        ({"state_dir": "/x"}, "unknown key 'state_dir'; did you mean 'STATE_DIR'?"),
        ({"ENABLE": False}, "did you mean 'ENABLED'?"),
        ({"COLOUR": 1}, "valid keys are STATE_DIR, CHECK_INTERVAL, HISTORY_LIMIT, ENABLED"),
        ({"CHECK_INTERVAL": -1}, "CHECK_INTERVAL'] = -1: must be seconds, a number >= 0"),
        ({"CHECK_INTERVAL": "30"}, "must be seconds"),
        ({"HISTORY_LIMIT": 0}, "HISTORY_LIMIT'] = 0: must be an integer >= 1"),
        ({"ENABLED": "false"}, "ENABLED'] = 'false': must be True or False"),
        ({"STATE_DIR": 3}, "must be a path"),
        (["STATE_DIR"], "settings.LAZYCRON must be a dict, not list"),
    ],
)
def test_every_problem_is_named(raw: object, message: str) -> None:
    with override_settings(LAZYCRON=raw):
        _, problems = read_settings()
        assert len(problems) == 1 and message in problems[0]
        with pytest.raises(ImproperlyConfigured, match="lazycron: "):
            get_settings()


def test_a_broken_setting_fails_the_middleware_at_startup_but_never_a_request() -> None:
    from django.test import Client

    from lazycron.middleware import LazyCronMiddleware

    client = Client()
    assert client.get("/sync/").status_code == 200  # the middleware is loaded
    with override_settings(LAZYCRON={"CHECK_INTERVAL": -1}):
        with pytest.raises(ImproperlyConfigured, match="CHECK_INTERVAL"):
            LazyCronMiddleware(lambda request: HttpResponse())
        # Settings changed under a running site (only tests do that): the error is
        # logged and lazycron stays off; the request is served.
        assert client.get("/sync/").status_code == 200
        assert runtime.active_scheduler() is None
