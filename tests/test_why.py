"""``lazycron why NAME``: each reason, produced for real and stated from recorded facts."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import lazycron
from lazycron import Registry, Scheduler
from lazycron._control import set_paused
from lazycron.testing import FakeClock
from lazycron.why import Why, explain

from .helpers import run_check
from .test_cli import Cli


def why(scheduler: Scheduler, name: str = "job") -> Why:
    return explain(scheduler, scheduler.registry.get(name))


def test_no_check_since_the_last_request(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    seen = calls(every=60, clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)  # the last request: the site then goes quiet
    clock.advance(600)
    answer = why(scheduler)
    assert seen == []
    assert answer.reason == "no_check"
    assert "no check has happened since 2026-01-05T12:00:00+00:00" in answer.text
    run_check(scheduler)  # traffic again: the job runs
    assert why(scheduler).reason == "ran"


def test_paused_since_by_whom(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    calls(every=60, clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)
    set_paused(scheduler.runner, scheduler.registry.get("job"), pause=True, by="erin", wait=0)
    clock.advance(60)
    run_check(scheduler)
    answer = why(scheduler)
    assert answer.reason == "paused" and "paused since 2026-01-05T12:00:00+00:00 by erin" in (
        answer.text
    )


def test_running_elsewhere_host_pid_since(
    registry: Registry, state_dir: Path, clock: FakeClock
) -> None:
    started, release = threading.Event(), threading.Event()

    @lazycron.job(every=60, name="job", registry=registry)
    def slow() -> None:
        started.set()
        release.wait(10)

    scheduler = Scheduler(registry, state_dir=state_dir, clock=clock, check_interval=0)
    worker = threading.Thread(target=scheduler.run_now, args=("job",))
    worker.start()
    try:
        assert started.wait(10)
        answer = why(scheduler)
        assert answer.reason == "running"
        assert "pid" in answer.text and answer.facts["host"] == lazycron._owner.HOST
    finally:
        release.set()
        worker.join(10)


def test_first_sight_waits_for_its_first_tick(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    calls("0 3 * * *", clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)
    answer = why(scheduler)
    assert answer.reason == "first_sight"
    assert "waits for its first tick, 2026-01-06T03:00:00+00:00" in answer.text


def test_skipped_by_max_lateness(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    seen = calls(every=60, max_lateness=10, clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)
    clock.advance(75)
    run_check(scheduler)  # found 15 s late: skipped
    answer = why(scheduler)
    assert seen == [] and answer.reason == "max_lateness"
    assert "skipped by max_lateness=10s: it was found 15s late" in answer.text


def test_backend_unusable(registry: Registry, tmp_path: Path, clock: FakeClock) -> None:
    lazycron.job(every=60, name="job", registry=registry)(lambda: None)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    answer = why(Scheduler(registry, state_dir=blocked / "state", clock=clock))
    assert answer.reason == "backend_unusable" and "Not a directory" in answer.text


def test_schedule_changed_at(state_dir: Path, clock: FakeClock) -> None:
    before, after = Registry(), Registry()
    lazycron.job(every=60, name="job", registry=before)(lambda: None)
    lazycron.job(every=3600, name="job", registry=after)(lambda: None)
    old = Scheduler(before, state_dir=state_dir, clock=clock, check_interval=0)
    run_check(old)
    clock.advance(90)
    run_check(old)  # ran at +60 under the old schedule
    clock.advance(30)
    deployed = Scheduler(after, state_dir=state_dir, clock=clock, check_interval=0)
    run_check(deployed)  # the new code's first check records the change
    answer = why(deployed)
    assert answer.reason == "schedule_changed"
    assert "schedule changed at 2026-01-05T12:02:00+00:00 (to every 1h)" in answer.text


def test_cli_why(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    assert "no process has seen it yet" in cli("why", "greet")
    cli("run", "greet")
    answer = json.loads(cli("--json", "why", "greet"))
    # a manual run claims no tick: the job still waits for its first one
    assert answer["name"] == "greet" and answer["reason"] == "first_sight"
    assert "no job named 'nope'" in cli("why", "nope", expect=2)
