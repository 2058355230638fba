"""Scheduling semantics with an injected clock, point by point: the promises of
docs/design.md#what-users-can-rely-on.

No test here sleeps to let time pass: the clock is fake and ``run_check`` waits for
lazycron's threads by joining them.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import lazycron
from lazycron import Registry, Scheduler
from lazycron.backends import FileBackend, Snapshot
from lazycron.state import JobState, Run
from lazycron.testing import FakeClock

from .helpers import CountingBackend, run_check


def history(scheduler: Scheduler, name: str = "job") -> list[Run]:
    state = scheduler.runner.read(scheduler.registry.get(name))
    assert state is not None
    return state.history


class TestFirstSight:
    def test_interval_job_waits_one_full_interval(self, make_scheduler, clock, calls) -> None:
        seen = calls(every=60, clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        assert seen == []
        clock.advance(59)
        run_check(scheduler)
        assert seen == []
        clock.advance(1)
        run_check(scheduler)
        assert len(seen) == 1

    def test_cron_job_waits_for_its_next_tick(self, make_scheduler, clock, calls) -> None:
        clock.set(datetime(2026, 1, 5, 12, 4, 59, tzinfo=UTC))  # a tick was due 4m59s ago
        seen = calls("*/5 * * * *", clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        assert seen == []
        clock.advance(1)  # 12:05:00
        run_check(scheduler)
        assert seen == [datetime(2026, 1, 5, 12, 5, tzinfo=UTC).timestamp()]

    def test_a_new_process_does_not_reset_first_sight(self, make_scheduler, clock, calls) -> None:
        seen = calls(every=60, clock=clock)
        run_check(make_scheduler())
        clock.advance(60)
        run_check(make_scheduler())  # a second worker, started later: the tick is due
        assert len(seen) == 1


class TestTicks:
    def test_exactly_one_run_per_tick_however_many_checks(
        self, make_scheduler, clock, calls
    ) -> None:
        seen = calls(every=10, clock=clock)
        workers = [make_scheduler() for _ in range(3)]
        for _ in range(100):
            for scheduler in workers:
                run_check(scheduler)
            clock.advance(1)
        # first seen at t=0; ticks at 10, 20, ..., 90 (t ends at 100, checked up to 99)
        assert len(seen) == 9

    def test_ticks_come_from_the_last_tick_not_the_start_time(
        self, make_scheduler, clock, calls
    ) -> None:
        seen = calls(every=60, clock=clock)
        scheduler = make_scheduler()
        start = clock.time()
        run_check(scheduler)
        clock.advance(60 + 17)  # the request that finds the tick comes 17 s late
        run_check(scheduler)
        clock.advance(60 - 17)  # the next tick is on the original grid
        run_check(scheduler)
        assert [t - start for t in seen] == [77, 120]
        runs = history(scheduler)
        assert [r.tick - start for r in runs] == [60, 120]
        assert [r.lateness for r in runs] == [17, 0]

    def test_missed_ticks_coalesce_into_one_run_and_are_logged(
        self, make_scheduler, clock, calls, lazycron_log
    ) -> None:
        seen = calls("* * * * *", clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        clock.advance(3600 + 30)  # an hour with no traffic
        run_check(scheduler)
        assert len(seen) == 1
        run = history(scheduler)[-1]
        assert run.tick == datetime(2026, 1, 5, 13, 0, tzinfo=UTC).timestamp()
        assert run.skipped == 59
        assert "missed 59 tick(s); running once" in lazycron_log.text

    def test_max_lateness_skips_a_stale_tick_and_keeps_the_next(
        self, make_scheduler, clock, calls, lazycron_log
    ) -> None:
        seen = calls(every=60, max_lateness=30, clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        clock.advance(60 + 45)
        run_check(scheduler)
        assert seen == []
        assert history(scheduler)[-1].outcome == "skipped"
        assert "more than max_lateness=30s" in lazycron_log.text
        clock.advance(15 + 5)  # 5 s after the next tick: within max_lateness
        run_check(scheduler)
        assert len(seen) == 1

    def test_wall_clock_jumping_forward_gives_one_run(self, make_scheduler, clock, calls) -> None:
        seen = calls(every=60, clock=clock)
        scheduler = make_scheduler(check_interval=30)
        run_check(scheduler)
        clock.jump_wall(3 * 86400)  # three days, but no monotonic time passed
        clock.mono += 300  # the longest the in-memory plan sleeps (MAX_SLEEP)
        for _ in range(5):
            run_check(scheduler)
            clock.advance(1)
        assert len(seen) == 1

    def test_wall_clock_jumping_backwards_never_repeats_a_tick(
        self, make_scheduler, clock, calls
    ) -> None:
        seen = calls(every=60, clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        clock.advance(60)
        run_check(scheduler)
        assert len(seen) == 1
        clock.jump_wall(-3600)
        for _ in range(3600 // 30):
            clock.advance(30)
            run_check(scheduler)
        assert len(seen) == 1  # back where we were: tick 60 is not run again
        clock.advance(60)
        run_check(scheduler)
        assert len(seen) == 2  # and the next tick comes, no later than the jump allows


class TestFastPath:
    def test_nothing_is_read_while_nothing_is_due(self, registry, state_dir, clock) -> None:
        lazycron.job(every=3600, name="hourly", registry=registry)(lambda: None)
        backend = CountingBackend(state_dir)
        scheduler = Scheduler(registry, backend=backend, clock=clock, check_interval=0)
        run_check(scheduler)  # the first check of a process reads the state once
        reads = backend.reads
        for _ in range(1000):
            clock.advance(1)
            run_check(scheduler)
        assert backend.reads == reads
        assert not scheduler.due()

    def test_state_is_read_at_most_once_per_check_interval(
        self, registry, state_dir, clock
    ) -> None:
        started = threading.Event()
        release = threading.Event()

        @lazycron.job(every=1, name="slow", registry=registry)
        def slow() -> None:
            started.set()
            release.wait(10)

        backend = CountingBackend(state_dir)
        scheduler = Scheduler(registry, backend=backend, clock=clock, check_interval=30)
        other = Scheduler(
            registry, backend=CountingBackend(state_dir), clock=clock, check_interval=30
        )
        run_check(scheduler)
        clock.advance(1)
        scheduler.check()  # starts the slow run, which stays busy
        assert started.wait(10)
        other_backend = other.backend
        assert isinstance(other_backend, CountingBackend)
        # the job is due every second but busy elsewhere: "other" looks every 30 s only
        for _ in range(120):
            clock.advance(1)
            if other.due():
                other.check()
            other.wait_idle(10)
        assert other_backend.reads <= 120 // 30 + 1
        release.set()
        scheduler.wait_idle(10)

    def test_a_check_costs_nothing_when_due_time_has_not_come(
        self, make_scheduler, clock, calls
    ) -> None:
        calls(every=600, clock=clock)
        scheduler = make_scheduler(check_interval=5)
        run_check(scheduler)
        assert not scheduler.due()
        clock.advance(5)
        assert not scheduler.due()  # the throttle has passed, but the plan says 595 s to go
        clock.advance(295)
        # the plan re-looks every MAX_SLEEP (300 s) in case the wall clock jumped; that
        # look is in memory only: no thread, no disk
        assert scheduler.due()
        before = threading.active_count()
        scheduler.check()
        assert threading.active_count() == before
        assert not scheduler.due()


class TestRuns:
    def test_a_failing_job_is_logged_recorded_and_runs_again_next_tick(
        self, make_scheduler, clock, registry, lazycron_log
    ) -> None:
        attempts = []

        @lazycron.job(every=60, name="job", registry=registry)
        def broken() -> None:
            attempts.append(clock.time())
            raise RuntimeError("database is down")

        scheduler = make_scheduler()
        run_check(scheduler)
        clock.advance(60)
        run_check(scheduler)  # must not raise
        clock.advance(60)
        run_check(scheduler)
        assert len(attempts) == 2
        runs = history(scheduler)
        assert [r.outcome for r in runs] == ["failed", "failed"]
        assert runs[0].error == "RuntimeError: database is down"
        failures = [r for r in lazycron_log.records if "failed for tick" in r.getMessage()]
        assert len(failures) == 2
        assert failures[0].exc_info is not None  # the traceback is in the log

    def test_run_records_what_operators_need(self, make_scheduler, clock, calls) -> None:
        calls(every=60, clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        clock.advance(65)
        run_check(scheduler)
        (run,) = history(scheduler)
        assert run.outcome == "ok"
        assert run.pid == os.getpid()
        assert run.host
        assert run.lateness == 5
        assert run.duration == 0
        assert run.error is None

    def test_history_is_bounded(self, make_scheduler, clock, calls) -> None:
        calls(every=1, clock=clock)
        scheduler = make_scheduler(history_limit=5)
        for _ in range(20):
            run_check(scheduler)
            clock.advance(1)
        assert len(history(scheduler)) == 5

    def test_async_jobs_run(self, make_scheduler, clock, registry) -> None:
        seen = []

        @lazycron.job(every=60, name="job", registry=registry)
        async def report() -> None:
            await asyncio.sleep(0)
            seen.append("ran")

        scheduler = make_scheduler()
        run_check(scheduler)
        clock.advance(60)
        run_check(scheduler)
        assert seen == ["ran"]
        assert history(scheduler)[-1].outcome == "ok"

    def test_a_slow_job_holds_back_neither_other_jobs_nor_checks(
        self, make_scheduler, clock, registry
    ) -> None:
        release = threading.Event()
        fast_runs = []

        @lazycron.job(every=60, name="slow", registry=registry)
        def slow() -> None:
            release.wait(10)

        @lazycron.job(every=60, name="fast", registry=registry)
        def fast() -> None:
            fast_runs.append(clock.time())

        scheduler = make_scheduler()
        run_check(scheduler)
        clock.advance(60)
        scheduler.check()
        scheduler.wait_idle(0.5)  # slow is still running; fast is not waiting on it
        assert len(fast_runs) == 1
        clock.advance(60)
        scheduler.check()
        scheduler.wait_idle(0.5)
        assert len(fast_runs) == 2
        release.set()
        assert scheduler.wait_idle(10)

    def test_a_job_never_overlaps_itself(self, make_scheduler, clock, registry) -> None:
        release = threading.Event()
        active, peak, runs = [0], [0], []
        guard = threading.Lock()

        @lazycron.job(every=1, name="job", registry=registry)
        def busy() -> None:
            with guard:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
                runs.append(clock.time())
            release.wait(10)
            with guard:
                active[0] -= 1

        first, second = make_scheduler(), make_scheduler()
        run_check(first)
        for _ in range(10):
            clock.advance(1)
            first.check()
            second.check()
            first.wait_idle(0.05)
            second.wait_idle(0.05)
        assert len(runs) == 1 and peak[0] == 1
        release.set()
        assert first.wait_idle(10) and second.wait_idle(10)

    def test_nothing_fires_from_inside_a_job(self, make_scheduler, clock, registry) -> None:
        holder: dict[str, Scheduler] = {}
        nested = []

        @lazycron.job(every=1, name="job", registry=registry)
        def calls_check() -> None:
            scheduler = holder["s"]
            scheduler.wake_at = float("-inf")
            before = threading.active_count()
            scheduler.check()
            nested.append(threading.active_count() - before)

        holder["s"] = scheduler = make_scheduler()
        run_check(scheduler)
        clock.advance(1)
        run_check(scheduler)
        assert nested == [0]

    def test_manual_run_does_not_consume_a_tick(self, make_scheduler, clock, calls) -> None:
        seen = calls(every=60, clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        clock.advance(30)
        result = scheduler.run_now("job")
        assert result.ran is not None and result.ran.trigger == "manual"
        clock.advance(30)
        run_check(scheduler)
        assert len(seen) == 2
        assert [r.trigger for r in history(scheduler)] == ["manual", "schedule"]


class TestInterrupted:
    def plant_dead_run(self, scheduler: Scheduler, tick: float) -> None:
        """What a worker killed mid-run leaves behind: a claim and a run in progress,
        and no lock held (the kernel released it when the process died)."""
        snapshot = scheduler.backend.read("job")
        assert snapshot is not None
        state = snapshot.state
        state.last_tick = tick
        state.current = Run(
            run_id="dead", tick=tick, started=tick + 1, pid=999_999, host="elsewhere"
        )
        assert scheduler.backend.write("job", state, expected=snapshot.version)

    def test_a_dead_run_is_recorded_and_the_job_waits_for_its_next_tick(
        self, make_scheduler, clock, calls, lazycron_log
    ) -> None:
        seen = calls(every=60, clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        first_tick = clock.time() + 60
        clock.advance(61)
        self.plant_dead_run(scheduler, first_tick)
        scheduler.wake_at = float("-inf")
        run_check(scheduler)
        assert seen == []
        (run,) = history(scheduler)
        assert run.outcome == "interrupted" and run.pid == 999_999
        assert "was interrupted" in lazycron_log.text
        assert "waiting for the next tick" in lazycron_log.text
        clock.advance(59)
        run_check(scheduler)
        assert len(seen) == 1

    def test_opt_in_reruns_the_interrupted_tick(self, make_scheduler, clock, calls) -> None:
        seen = calls(every=60, rerun_interrupted=True, clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        first_tick = clock.time() + 60
        clock.advance(61)
        self.plant_dead_run(scheduler, first_tick)
        scheduler.wake_at = float("-inf")
        run_check(scheduler)
        assert len(seen) == 1
        runs = history(scheduler)
        assert [(r.outcome, r.trigger, r.tick) for r in runs] == [
            ("interrupted", "schedule", first_tick),
            ("ok", "rerun", first_tick),
        ]

    def test_a_live_run_elsewhere_is_not_mistaken_for_a_dead_one(
        self, make_scheduler, clock, registry
    ) -> None:
        release, started = threading.Event(), threading.Event()

        @lazycron.job(every=60, name="job", registry=registry)
        def long() -> None:
            started.set()
            release.wait(10)

        owner, watcher = make_scheduler(), make_scheduler()
        run_check(owner)
        clock.advance(60)
        owner.check()
        assert started.wait(10)
        clock.advance(5)
        watcher.wake_at = float("-inf")
        run_check(watcher)
        state = watcher.runner.read(registry.get("job"))
        assert state is not None and state.current is not None
        assert state.history == []
        release.set()
        assert owner.wait_idle(10)
        assert [r.outcome for r in history(owner)] == ["ok"]


class TestStorageProblems:
    def test_an_unusable_directory_is_logged_once_and_jobs_resume(
        self, make_scheduler, clock, calls, state_dir, lazycron_log
    ) -> None:
        # Permission bits do not stop root (and CI runs as root), so the directory is made
        # unusable for everyone: a plain file takes its place.
        seen = calls(every=10, clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        state_dir.rename(state_dir.with_name("moved"))
        state_dir.write_text("not a directory")
        for _ in range(50):
            clock.advance(1)
            run_check(scheduler)
        assert seen == []
        errors = [r for r in lazycron_log.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1
        assert str(state_dir) in errors[0].getMessage()
        state_dir.unlink()
        state_dir.with_name("moved").rename(state_dir)
        for _ in range(10):
            clock.advance(1)
            run_check(scheduler)
        assert len(seen) >= 1
        assert "is usable again" in lazycron_log.text

    def test_a_missing_directory_is_created_private(
        self, make_scheduler, clock, calls, state_dir
    ) -> None:
        calls(every=10, clock=clock)
        scheduler = make_scheduler()
        assert not state_dir.exists()
        run_check(scheduler)
        assert state_dir.stat().st_mode & 0o777 == 0o700
        (state_file,) = state_dir.glob("*.json")
        assert state_file.stat().st_mode & 0o777 == 0o600

    def test_a_failed_claim_means_the_job_does_not_run(
        self, registry, state_dir, clock, lazycron_log
    ) -> None:
        seen = []
        lazycron.job(every=10, name="job", registry=registry)(lambda: seen.append(1))

        class FullDisk(FileBackend):
            full = False

            def write(self, job_name: str, state: JobState, *, expected: int | None) -> bool:
                if self.full:
                    raise OSError(28, "No space left on device")
                return super().write(job_name, state, expected=expected)

            def claim(self, job_name: str, state: JobState, *, expected: int | None) -> Any:
                if self.full:
                    raise OSError(28, "No space left on device")
                return super().claim(job_name, state, expected=expected)

        backend = FullDisk(state_dir)
        scheduler = Scheduler(registry, backend=backend, clock=clock, check_interval=0)
        run_check(scheduler)
        backend.full = True
        for _ in range(30):
            clock.advance(1)
            run_check(scheduler)
        assert seen == []
        messages = [r.getMessage() for r in lazycron_log.records if r.levelno >= logging.ERROR]
        assert len(messages) == 1 and "No space left on device" in messages[0]
        backend.full = False
        clock.advance(10)
        run_check(scheduler)
        assert seen == [1]

    @pytest.mark.parametrize(
        "content",
        [
            b"",
            b'{"version": 1, "first_s',
            b"\x00\xff garbage",
            b"[]",
            b'{"version": 1}',
            json.dumps({"version": 99, "first_seen": 1.0}).encode(),
        ],
        ids=["empty", "truncated", "bytes", "wrong-shape", "missing-fields", "future-version"],
    )
    def test_corrupt_state_is_logged_once_and_treated_as_first_sight(
        self, make_scheduler, clock, calls, lazycron_log, content: bytes
    ) -> None:
        seen = calls(every=60, clock=clock)
        scheduler = make_scheduler()
        run_check(scheduler)
        path = scheduler.backend.path_for("job")
        clock.advance(50)
        path.write_bytes(content)
        for _ in range(20):
            clock.advance(1)
            run_check(scheduler)
        assert seen == []  # no storm: the job starts afresh and waits an interval
        warnings = [r for r in lazycron_log.records if "unreadable" in r.getMessage()]
        assert len(warnings) == 1 and str(path) in warnings[0].getMessage()
        clock.advance(60)
        run_check(scheduler)
        assert len(seen) == 1


def test_scheduler_options_are_validated(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(lazycron.ConfigurationError, match="check_interval"):
        Scheduler(registry, state_dir=tmp_path, check_interval=-1)
    with pytest.raises(lazycron.ConfigurationError, match="history_limit"):
        Scheduler(registry, state_dir=tmp_path, history_limit=0)
    with pytest.raises(lazycron.JobDefinitionError, match="unknown time zone"):
        Scheduler(registry, state_dir=tmp_path, timezone="Nowhere/Land")


def test_fake_clock_is_used_everywhere(make_scheduler: Any, clock: FakeClock, calls: Any) -> None:
    seen = calls(every=86400, clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)
    clock.advance(86400)
    run_check(scheduler)
    assert len(seen) == 1


def test_one_jobs_surprise_does_not_strand_the_others(
    registry: Registry, state_dir: Path, clock: FakeClock, lazycron_log: Any
) -> None:
    ran: list[str] = []
    for name in ("bad", "good"):
        lazycron.job(every=10, name=name, registry=registry)(lambda n=name: ran.append(n))

    class Surprising(FileBackend):
        broken = False

        def read(self, job_name: str) -> Snapshot | None:
            if self.broken and job_name == "bad":
                raise RuntimeError("a bug somewhere below us")
            return super().read(job_name)

    backend = Surprising(state_dir)
    scheduler = Scheduler(registry, backend=backend, clock=clock, check_interval=0)
    run_check(scheduler)
    backend.broken = True
    clock.advance(10)
    run_check(scheduler)
    assert ran == ["good"]
    assert "could not look at job 'bad'" in lazycron_log.text
    backend.broken = False
    clock.advance(1)  # the bad job is retried after MIN_RETRY, not forgotten
    run_check(scheduler)
    assert sorted(ran) == ["bad", "good"]


class TestWakeUpsAndProcesses:
    def test_a_wake_up_planned_meanwhile_is_never_lost(self, make_scheduler, clock, calls) -> None:
        """The dispatcher re-arms after starting a job's thread; if that thread plans the
        job's next tick and re-arms in between, the dispatcher must not overwrite the
        newer wake-up with one computed from the older plan (the job would wait up to
        MAX_SLEEP in this process). The clock makes the interleaving certain: once a job
        thread exists, the dispatcher's next reading of the clock waits for it to end."""

        class Interleaving(FakeClock):
            def time(self) -> float:
                if threading.current_thread().name == "lazycron-dispatch":
                    for thread in threading.enumerate():
                        if thread.name.startswith("lazycron:"):
                            thread.join(10)
                return super().time()

        interleaving = Interleaving()
        seen = calls(every=5, clock=interleaving)
        scheduler = make_scheduler(clock=interleaving)
        run_check(scheduler)  # first sight
        interleaving.advance(5)
        run_check(scheduler)
        assert len(seen) == 1
        interleaving.advance(5)
        assert scheduler.due(), "the next tick's wake-up was lost"
        run_check(scheduler)
        assert len(seen) == 2

    def test_a_child_forked_without_pythons_fork_hooks_starts_afresh(
        self, registry: Registry, state_dir: Path, clock: FakeClock
    ) -> None:
        """uWSGI forks from C and calls Python's at-fork hooks only with
        ``py-call-osafterfork``. A child forked while the parent's dispatcher was busy must
        still run jobs: the scheduler notices the new pid at its first check."""
        parent = os.getpid()
        ran_in = state_dir.parent / "ran-in"
        lazycron.job(every=10, name="job", registry=registry)(
            lambda: ran_in.write_text(str(os.getpid()))
        )
        release, stalled = threading.Event(), threading.Event()

        class Stalling(FileBackend):
            def read(self, job_name: str) -> Snapshot | None:
                if os.getpid() == parent and not release.is_set():
                    stalled.set()
                    release.wait(10)  # the parent's dispatcher is mid-way at the fork
                return super().read(job_name)

        scheduler = Scheduler(registry, backend=Stalling(state_dir), clock=clock, check_interval=0)
        release.set()
        run_check(scheduler)  # first sight
        release.clear()
        clock.advance(10)
        scheduler.check()
        assert stalled.wait(10)  # the dispatcher thread now waits inside read()
        child = ctypes.PyDLL(None).fork()  # libc's fork: no at-fork hook runs
        if child == 0:
            ok = False
            signal.alarm(20)  # a child that hangs fails the test instead of stalling it
            try:
                scheduler.check()
                scheduler.wait_idle(10)
                ok = ran_in.exists() and ran_in.read_text() == str(os.getpid())
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(child, 0)
        release.set()  # only now: the parent's run of that tick would make the child's busy
        assert scheduler.wait_idle(10)
        assert os.waitstatus_to_exitcode(status) == 0, "the forked child never ran the job"

    def test_run_now_of_an_async_job_inside_a_running_event_loop(
        self, make_scheduler, registry
    ) -> None:
        """An async view or test calls run_now(): the job needs an event loop of its own."""
        ran: list[str] = []

        @lazycron.job(every=60, name="job", registry=registry)
        async def job() -> None:
            await asyncio.sleep(0)
            ran.append("ran")

        scheduler = make_scheduler()

        async def view() -> Any:
            return scheduler.run_now("job")

        result = asyncio.run(view())
        assert result.ran is not None and result.ran.outcome == "ok", result.ran
        assert ran == ["ran"]


class TestDefaultsAndDurations:
    def test_with_default_settings_a_job_runs_at_its_declared_rate(
        self, registry: Registry, state_dir: Path, clock: FakeClock, calls: Any
    ) -> None:
        """Steady traffic (a request every half second) and no check_interval given: a
        job declared every 5 s runs every 5 s, not once per check interval."""
        seen = calls(every="5s", clock=clock)
        scheduler = Scheduler(registry, state_dir=state_dir, clock=clock)
        for _ in range(120):  # one minute
            run_check(scheduler)
            clock.advance(0.5)
        run_check(scheduler)
        assert len(seen) == 12  # first seen at 0 s, then at 5, 10, ... 60 s

    def test_a_check_interval_longer_than_a_jobs_interval_is_warned_about_once(
        self, make_scheduler: Any, clock: FakeClock, calls: Any, lazycron_log: Any
    ) -> None:
        calls(every="5s", clock=clock)
        scheduler = make_scheduler(check_interval="30s")
        for _ in range(3):
            run_check(scheduler)
            clock.advance(30)
        warnings = [r for r in lazycron_log.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "'job' is declared every 5s but check_interval is 30s" in warnings[0].getMessage()

    def test_the_first_check_of_a_process_says_lazycron_is_wired_up(
        self, make_scheduler: Any, clock: FakeClock, calls: Any, lazycron_log: Any
    ) -> None:
        calls(every="1h", clock=clock)
        scheduler = make_scheduler()
        for _ in range(3):
            run_check(scheduler)
            clock.advance(60)
        lines = [r.getMessage() for r in lazycron_log.records if r.levelno == logging.INFO]
        assert lines == [f"1 job, state in {scheduler.backend.location}"]

    @pytest.mark.parametrize(
        ("value", "seconds"),
        [("30s", 30.0), ("1m30s", 90.0), (timedelta(minutes=2), 120.0), (0, 0.0), ("0s", 0.0)],
    )
    def test_check_interval_takes_the_duration_forms_of_every(
        self, make_scheduler: Any, value: object, seconds: float
    ) -> None:
        assert make_scheduler(check_interval=value).check_interval == seconds

    @pytest.mark.parametrize("value", [-1, "-5s", "soon", "30", float("nan"), True])
    def test_a_bad_check_interval_is_refused_by_name(
        self, make_scheduler: Any, value: object
    ) -> None:
        with pytest.raises(lazycron.ConfigurationError, match="check_interval"):
            make_scheduler(check_interval=value)
