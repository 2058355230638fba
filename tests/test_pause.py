"""Pause and resume: state in the backend, so every process sees it; a paused job's ticks
are recorded as skipped (paused), and resuming never runs a backlog."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import lazycron
from lazycron import Registry, Scheduler
from lazycron._control import set_paused
from lazycron.testing import FakeClock

from .helpers import run_check
from .test_cli import Cli


def history(scheduler: Scheduler, name: str = "job") -> list[lazycron.state.Run]:
    state = scheduler.runner.read(scheduler.registry.get(name))
    assert state is not None
    return state.history


def pause(scheduler: Scheduler, *, by: str = "ops@example", wait: float = 0) -> None:
    result = set_paused(
        scheduler.runner, scheduler.registry.get("job"), pause=True, by=by, wait=wait
    )
    assert result.state is not None and result.state.paused is not None


def resume(scheduler: Scheduler) -> None:
    job = scheduler.registry.get("job")
    result = set_paused(scheduler.runner, job, pause=False, by="ops@example", wait=0)
    assert result.state is not None and result.state.paused is None


def test_every_process_skips_a_paused_jobs_ticks_and_records_them(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    seen = calls(every=60, clock=clock)
    web1, web2, operator = make_scheduler(), make_scheduler(), make_scheduler()
    run_check(web1)
    run_check(web2)  # both processes have planned the job's next tick
    pause(operator, by="alice@ops")
    clock.advance(60)
    run_check(web1)
    run_check(web2)
    clock.advance(60)
    run_check(web2)
    assert seen == []
    skipped = history(operator)
    assert [(r.outcome, r.reason) for r in skipped] == [("skipped", "paused")] * 2
    state = operator.runner.read(operator.registry.get("job"))
    assert state is not None and state.paused is not None and state.paused.by == "alice@ops"

    resume(operator)
    run_check(web1)
    assert seen == []  # resuming runs no backlog
    clock.advance(60)
    run_check(web1)
    run_check(web2)
    assert len(seen) == 1
    assert [r.outcome for r in history(operator)][-1] == "ok"


def test_resume_records_the_ticks_no_check_saw_while_paused(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    seen = calls(every=60, clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)
    pause(scheduler)
    clock.advance(300)  # a quiet site: no check while paused
    resume(scheduler)
    clock.advance(1)
    run_check(scheduler)
    assert seen == []
    (skipped,) = history(scheduler)
    assert (skipped.outcome, skipped.reason, skipped.skipped) == ("skipped", "paused", 4)
    clock.advance(60)
    run_check(scheduler)
    assert len(seen) == 1


def test_a_manual_run_of_a_paused_job_runs_and_keeps_the_pause(
    make_scheduler: Callable[..., Scheduler], clock: FakeClock, calls: Callable[..., list[float]]
) -> None:
    seen = calls(every=60, clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)
    pause(scheduler)
    result = scheduler.run_now("job")
    assert result.ran is not None and result.ran.trigger == "manual"
    assert len(seen) == 1
    state = scheduler.runner.read(scheduler.registry.get("job"))
    assert state is not None and state.paused is not None


def test_pause_waits_for_the_run_in_progress(
    registry: Registry, state_dir: Path, clock: FakeClock
) -> None:
    started, release = threading.Event(), threading.Event()

    @lazycron.job(every=60, name="job", registry=registry)
    def slow() -> None:
        started.set()
        release.wait(10)

    scheduler = Scheduler(registry, state_dir=state_dir, clock=clock, check_interval=0)
    runner = threading.Thread(target=scheduler.run_now, args=("job",))
    runner.start()
    assert started.wait(10)
    operator = Scheduler(registry, state_dir=state_dir, check_interval=0)  # real clock
    busy = set_paused(operator.runner, slow_job(operator), pause=True, by="bob", wait=0.3)
    assert busy.state is None and busy.running is not None  # still running: not paused
    threading.Timer(0.3, release.set).start()
    done = set_paused(operator.runner, slow_job(operator), pause=True, by="bob", wait=10)
    runner.join(10)
    assert done.state is not None and done.state.paused is not None
    assert done.state.history[-1].outcome == "ok"  # the run's outcome was kept


def slow_job(scheduler: Scheduler) -> lazycron.Job:
    return scheduler.registry.get("job")


def test_cli_pause_status_resume(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    assert "greet: paused since" in cli("pause", "greet", "--by", "carol")
    status = json.loads(cli("--json", "status"))
    greet = next(row for row in status["jobs"] if row["name"] == "greet")
    assert greet["paused"]["by"] == "carol"
    assert "(paused)" in cli("status")
    assert "greet: resumed; next tick" in cli("resume", "greet")
    greet = next(r for r in json.loads(cli("--json", "status"))["jobs"] if r["name"] == "greet")
    assert greet["paused"] is None
    assert "no job named 'nope'" in cli("pause", "nope", expect=2)


class LosesFirstClaim:
    """A file backend on which another process writes the record between our read and our
    first claim (a first sight, a skipped tick): the claim fails, and no run is live."""

    def __init__(self, inner: lazycron.backends.FileBackend) -> None:
        self.inner = inner
        self.lost = True  # set to False to lose the next claim

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def claim(
        self, job_name: str, state: lazycron.state.JobState, *, expected: int | None
    ) -> object:
        if not self.lost:
            self.lost = True
            snapshot = self.inner.read(job_name)
            assert snapshot is not None
            assert self.inner.write(job_name, snapshot.state, expected=snapshot.version)
            return None
        return self.inner.claim(job_name, state, expected=expected)


def test_run_now_that_loses_to_a_write_runs_rather_than_saying_running_elsewhere(
    registry: Registry, state_dir: Path, clock: FakeClock
) -> None:
    ran: list[int] = []
    lazycron.job(every=60, name="job", registry=registry)(lambda: ran.append(1))
    backend = LosesFirstClaim(lazycron.backends.FileBackend(state_dir))
    scheduler = Scheduler(registry, backend=backend, clock=clock)  # type: ignore[arg-type]
    scheduler.run_now("job")  # first sight and a manual run
    backend.lost = False
    result = scheduler.run_now("job")
    assert result.ran is not None and result.ran.trigger == "manual"
    assert ran == [1, 1]
