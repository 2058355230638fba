"""Declaring jobs: what the decorator accepts, and the errors it raises at import time."""

from __future__ import annotations

import importlib
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import lazycron
from lazycron import JobDefinitionError, Registry
from lazycron.errors import DuplicateJobError


def test_the_decorator_returns_the_function_unchanged(registry: Registry) -> None:
    def purge() -> str:
        return "purged"

    assert lazycron.job("*/5 * * * *", registry=registry)(purge) is purge
    assert purge() == "purged"


def test_default_name_is_module_and_qualified_name(registry: Registry) -> None:
    @lazycron.job(every=30, registry=registry)
    def ping() -> None: ...

    (declared,) = registry
    qualified = "test_default_name_is_module_and_qualified_name.<locals>.ping"
    assert declared.name == f"{__name__}.{qualified}"


def test_options_are_parsed(registry: Registry) -> None:
    @lazycron.job(
        "0 3 * * *",
        name="nightly-report",
        timezone="Europe/Berlin",
        max_lateness="1h",
        expected_duration=timedelta(minutes=10),
        rerun_interrupted=True,
        registry=registry,
    )
    async def report() -> None: ...

    declared = registry.get("nightly-report")
    assert declared.max_lateness == 3600
    assert declared.expected_duration == 600
    assert declared.rerun_interrupted is True
    assert str(declared.timezone) == "Europe/Berlin"
    assert declared.is_async


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("61 * * * *",), {}, r"job 'bad': cron expression '61 \* \* \* \*' is not valid"),
        (("0 0 30 2 *",), {}, "never matches a real date"),
        ((), {}, "give exactly one schedule"),
        (("* * * * *",), {"every": 5}, "give exactly one schedule"),
        ((), {"every": 0}, "every=0 must be a positive duration"),
        ((), {"every": -1}, "every=-1 must be a positive duration"),
        (("* * * * *",), {"timezone": "Europe/Nowhere"}, "unknown time zone 'Europe/Nowhere'"),
        ((), {"every": 5, "timezone": "UTC"}, "timezone= only applies to cron"),
        ((), {"every": 5, "max_lateness": "soon"}, "max_lateness='soon' is not a duration"),
        ((), {"every": 5, "rerun_interrupted": "yes"}, "rerun_interrupted= must be True"),
    ],
)
def test_bad_declarations_fail_when_the_decorator_runs(
    registry: Registry, args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(JobDefinitionError, match=message):
        lazycron.job(*args, name="bad", registry=registry, **kwargs)(lambda: None)
    assert len(registry) == 0


def test_errors_are_value_errors_and_lazycron_errors(registry: Registry) -> None:
    with pytest.raises(ValueError):
        lazycron.job("nope", registry=registry)(lambda: None)
    with pytest.raises(lazycron.LazyCronError):
        lazycron.job("nope", registry=registry)(lambda: None)


def test_a_bare_decorator_is_explained(registry: Registry) -> None:
    with pytest.raises(JobDefinitionError, match="needs a schedule"):
        lazycron.job(lambda: None)  # type: ignore[arg-type]


def test_a_job_must_take_no_arguments(registry: Registry) -> None:
    with pytest.raises(JobDefinitionError, match="called with no arguments"):

        @lazycron.job(every=5, name="needs-args", registry=registry)
        def needs(x: int) -> None: ...


def test_duplicate_names_are_refused_and_name_both_places(registry: Registry) -> None:
    @lazycron.job(every=5, name="cleanup", registry=registry)
    def first() -> None: ...

    with pytest.raises(JobDefinitionError, match="duplicate job name 'cleanup'") as info:

        @lazycron.job(every=5, name="cleanup", registry=registry)
        def second() -> None: ...

    assert "first" in str(info.value) and "second" in str(info.value)
    assert isinstance(info.value, DuplicateJobError)  # so Django's checks can tell it apart


def test_jobs_declared_in_a_loop_are_refused_not_replaced(registry: Registry) -> None:
    with pytest.raises(DuplicateJobError, match=r"declared it twice .*in a loop"):
        for interval in (5, 10):

            @lazycron.job(every=interval, name="same", registry=registry)
            def same() -> None: ...

    assert registry.get("same").schedule.describe() == "every 5s"  # the first one stays


def test_jobs_made_by_a_factory_are_refused(registry: Registry) -> None:
    def make(site: str) -> None:
        @lazycron.job(every="1h", registry=registry)
        def report() -> None: ...

    make("a")
    with pytest.raises(DuplicateJobError, match="pass a distinct name="):
        make("b")
    assert len(registry) == 1


def test_two_lambdas_under_the_default_name_are_refused(registry: Registry) -> None:
    lazycron.job(every="1m", registry=registry)(lambda: None)
    with pytest.raises(DuplicateJobError, match="<lambda>"):
        lazycron.job(every="1h", registry=registry)(lambda: None)


def test_declaring_the_same_function_object_twice_is_harmless(registry: Registry) -> None:
    def ping() -> None: ...

    lazycron.job(every=5, name="ping", registry=registry)(ping)
    lazycron.job(every=10, name="ping", registry=registry)(ping)
    assert registry.get("ping").schedule.describe() == "every 10s"


JOBS_MODULE = """
import lazycron
from tests.test_jobs import RELOAD_REGISTRY

@lazycron.job(every={interval}, registry=RELOAD_REGISTRY)
def cleanup(): ...
"""
RELOAD_REGISTRY = Registry()


def test_a_reimported_module_replaces_its_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What Django's autoreloader and importlib.reload do: run the same module again.
    monkeypatch.syspath_prepend(str(tmp_path))
    source = tmp_path / "reloaded_jobs.py"
    source.write_text(JOBS_MODULE.format(interval=5))
    module = importlib.import_module("reloaded_jobs")
    try:
        source.write_text(JOBS_MODULE.format(interval=10))
        importlib.invalidate_caches()
        importlib.reload(module)
        assert RELOAD_REGISTRY.get("reloaded_jobs.cleanup").schedule.describe() == "every 10s"
        del sys.modules["reloaded_jobs"]  # a fresh import, as after a failed one
        source.write_text(JOBS_MODULE.format(interval=20))
        importlib.invalidate_caches()
        importlib.import_module("reloaded_jobs")
        assert RELOAD_REGISTRY.get("reloaded_jobs.cleanup").schedule.describe() == "every 20s"
        assert len(RELOAD_REGISTRY) == 1
    finally:
        sys.modules.pop("reloaded_jobs", None)
        RELOAD_REGISTRY.clear()


def test_unknown_job_lookup_lists_known_jobs(registry: Registry) -> None:
    lazycron.job(every=5, name="a", registry=registry)(lambda: None)
    with pytest.raises(KeyError, match="no job named 'b' \\(known jobs: a\\)"):
        registry.get("b")


def test_import_lazycron_does_not_import_django() -> None:
    import subprocess

    code = "import lazycron, lazycron.wsgi, lazycron.asgi, sys; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
