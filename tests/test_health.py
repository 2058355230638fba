"""``status --check``: the monitoring-plugin verdicts, each produced for real."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import pytest

import lazycron
from lazycron import Registry, Scheduler, health
from lazycron._control import set_paused
from lazycron.errors import JobDefinitionError
from lazycron.testing import FakeClock

from .helpers import run_check
from .test_cli import Cli


def verdict(scheduler: Scheduler) -> dict[str, object]:
    result = health.check(scheduler)
    (job,) = result.jobs
    return {"code": result.code, "status": result.status, "reasons": job.reasons}


def test_unseen_is_unknown_and_on_time_is_ok(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    calls(every=60, clock=clock)
    scheduler = make_scheduler()
    assert verdict(scheduler)["code"] == health.UNKNOWN
    run_check(scheduler)
    clock.advance(60)
    run_check(scheduler)
    assert verdict(scheduler) == {"code": health.OK, "status": "OK", "reasons": []}


def test_a_failed_last_run_is_a_warning(
    make_scheduler: Callable[..., Scheduler], registry: Registry
) -> None:
    @lazycron.job(every=60, name="job", registry=registry)
    def broken() -> None:
        raise RuntimeError("the report server is down")

    scheduler = make_scheduler()
    scheduler.run_now("job")
    seen = verdict(scheduler)
    assert seen["code"] == health.WARNING
    assert "last run failed" in str(seen["reasons"]) and "report server" in str(seen["reasons"])


def test_late_past_grace_is_a_warning_and_two_missed_ticks_critical(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    calls(every=60, grace=10, clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)
    clock.advance(65)  # no traffic: the tick at +60 is unrun, 5 s late, within grace
    assert verdict(scheduler)["code"] == health.OK
    clock.advance(10)
    late = verdict(scheduler)
    assert late["code"] == health.WARNING and "late" in str(late["reasons"])
    clock.advance(60)
    missed = verdict(scheduler)
    assert missed["code"] == health.CRITICAL and "missed 2 ticks" in str(missed["reasons"])
    run_check(scheduler)  # a request comes: the job runs, and is on time again
    assert verdict(scheduler)["code"] == health.OK


def test_running_past_max_runtime_is_a_warning(
    registry: Registry, state_dir: Path, clock: FakeClock
) -> None:
    started, release = threading.Event(), threading.Event()

    @lazycron.job(every=60, name="job", max_runtime="30s", registry=registry)
    def slow() -> None:
        started.set()
        release.wait(10)

    scheduler = Scheduler(registry, state_dir=state_dir, clock=clock, check_interval=0)
    worker = threading.Thread(target=scheduler.run_now, args=("job",))
    worker.start()
    try:
        assert started.wait(10)
        assert verdict(scheduler)["code"] == health.OK
        clock.advance(31)
        over = verdict(scheduler)
        assert over["code"] == health.WARNING and "past max_runtime 30s" in str(over["reasons"])
    finally:
        release.set()
        worker.join(10)


def test_unreadable_state_is_critical(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    calls(every=60, clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)
    assert isinstance(scheduler.backend, lazycron.backends.FileBackend)
    scheduler.backend.path_for("job").write_text("not json")
    seen = verdict(scheduler)
    assert seen["code"] == health.CRITICAL and "unreadable" in str(seen["reasons"])


def test_unusable_store_is_critical(registry: Registry, tmp_path: Path, clock: FakeClock) -> None:
    lazycron.job(every=60, name="job", registry=registry)(lambda: None)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    scheduler = Scheduler(registry, state_dir=blocked / "state", clock=clock)
    seen = verdict(scheduler)
    assert seen["code"] == health.CRITICAL and "unusable" in str(seen["reasons"])


def test_a_paused_job_is_ok_however_late(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    calls(every=60, clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)
    set_paused(scheduler.runner, scheduler.registry.get("job"), pause=True, by="ops", wait=0)
    clock.advance(3600)
    seen = verdict(scheduler)
    assert seen["code"] == health.OK and "paused since" in str(seen["reasons"])


def test_defaults_come_from_the_schedule(registry: Registry) -> None:
    lazycron.job(every="2s", name="fast", registry=registry)(lambda: None)
    lazycron.job("0 3 * * *", name="nightly", registry=registry)(lambda: None)
    lazycron.job(every="10m", name="set", max_runtime="1m", grace="5m", registry=registry)(
        lambda: None
    )
    fast, nightly, chosen = (registry.get(n) for n in ("fast", "nightly", "set"))
    assert (health.max_runtime(fast, UTC, 0), health.grace(fast, UTC, 0)) == (2, 60)
    assert (health.max_runtime(nightly, UTC, 0), health.grace(nightly, UTC, 0)) == (86400, 3600)
    assert (health.max_runtime(chosen, UTC, 0), health.grace(chosen, UTC, 0)) == (60, 300)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"grace": -1}, "grace=-1 must be a positive duration"),
        ({"max_runtime": "soon"}, "max_runtime='soon' is not a duration"),
        ({"max_runtime": 60, "expected_duration": 30}, "keep max_runtime= only"),
    ],
)
def test_options_are_validated_at_declaration(
    registry: Registry, options: dict[str, object], problem: str
) -> None:
    with pytest.raises(JobDefinitionError, match=problem):
        lazycron.job(every=60, name="job", registry=registry, **options)(lambda: None)  # type: ignore[arg-type]


def test_expected_duration_is_max_runtime(registry: Registry) -> None:
    lazycron.job(every=60, name="job", expected_duration=90, registry=registry)(lambda: None)
    assert registry.get("job").max_runtime == 90


def test_cli_exit_codes(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    assert "LAZYCRON UNKNOWN" in cli("status", "--check", expect=3)
    cli("run", "nightly", expect=1)  # it raises
    cli("run", "greet")
    report = json.loads(cli("--json", "status", "--check", expect=1))
    jobs = {job["name"]: job for job in report["jobs"]}
    assert report["status"] == "WARNING"
    assert jobs["greet"]["status"] == "OK" and jobs["nightly"]["status"] == "WARNING"
    assert jobs["nightly"]["last_run"]["error"] == "RuntimeError: the report server is down"
