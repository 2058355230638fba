"""Wall-clock jumps (NTP stepping, a VM resumed): docs/design.md#a-cheap-fast-path,
docs/design.md#ticks-not-wall-clock-time, docs/design.md#missed-ticks-coalesce.

The fake clock's ``jump_wall`` moves wall time only, as a real step does; monotonic time
moves only with ``advance``. See also TestTicks in tests/test_scheduler.py, which these
extend to cron jobs, to the throttle, and to how long a backwards jump can stall a job.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import lazycron
from lazycron import Scheduler
from lazycron.scheduler import MAX_SLEEP
from lazycron.testing import FakeClock

from ..helpers import CountingBackend, run_check


@pytest.mark.parametrize(("schedule", "grid"), [({"every": 60}, 60), ("*/5 * * * *", 300)])
def test_forward_by_days_runs_once_coalesced(
    make_scheduler, clock, registry, lazycron_log, schedule, grid
) -> None:
    ticks: list[float] = []
    args = (schedule,) if isinstance(schedule, str) else ()
    kwargs = schedule if isinstance(schedule, dict) else {}

    @lazycron.job(*args, name="job", registry=registry, **kwargs)
    def record() -> None:
        run = lazycron.current_run()
        assert run is not None
        ticks.append(run.tick)

    scheduler = make_scheduler(check_interval=30)
    run_check(scheduler)
    clock.jump_wall(5 * 86400)
    jumped_to = clock.time()
    # one request a second, through the longest the in-memory plan sleeps and a few ticks
    for _ in range(int(MAX_SLEEP) + 30 + 3 * grid):
        clock.advance(1)
        run_check(scheduler)
    assert ticks, "the jump forward was never noticed"
    # the first run is the one coalesced run, for the latest tick before it: no catching up
    assert ticks[0] >= jumped_to - grid
    assert "running once, for the latest" in lazycron_log.text
    # and from there on, one run per tick on the grid: no storm
    assert all(b - a == grid for a, b in itertools.pairwise(ticks)), ticks
    assert len(ticks) <= 2 + (int(MAX_SLEEP) + 30 + 3 * grid) // grid


def test_backwards_never_repeats_a_tick_and_stalls_no_longer_than_the_jump(
    make_scheduler, clock, registry
) -> None:
    ticks: list[float] = []
    ran_at_mono: list[float] = []

    @lazycron.job(every=60, name="job", registry=registry)
    def record() -> None:
        run = lazycron.current_run()
        assert run is not None
        ticks.append(run.tick)
        ran_at_mono.append(clock.monotonic())

    scheduler = make_scheduler(check_interval=10)
    run_check(scheduler)
    for _ in range(180):  # three ticks
        clock.advance(1)
        run_check(scheduler)
    assert len(ticks) == 3
    jump, jumped_at = 2 * 3600, clock.monotonic()
    clock.jump_wall(-jump)
    for _ in range(jump + 120):
        clock.advance(1)
        run_check(scheduler)
    assert len(ticks) == len(set(ticks)), "a tick ran twice after the clock went back"
    assert ticks == sorted(ticks)
    after = [m for m in ran_at_mono if m > jumped_at]
    assert after, "the job stalled for good"
    # the job resumes once wall time is back where it was: the jump, plus at most one
    # interval, plus the throttle
    assert after[0] - jumped_at <= jump + 60 + 10


def test_throttle_uses_the_monotonic_clock(registry, tmp_path: Path) -> None:
    clock = FakeClock()
    lazycron.job(every=1, name="job", registry=registry)(lambda: None)
    backend = CountingBackend(tmp_path / "state")
    scheduler = Scheduler(registry, backend=backend, clock=clock, check_interval=30)
    run_check(scheduler)
    # wall time races ahead an hour per request: the throttle must not open each time
    reads = backend.reads
    for _ in range(300):
        clock.advance(1)
        clock.jump_wall(3600)
        run_check(scheduler)
    assert backend.reads - reads <= 2 * (300 // 30 + 1)
    # wall time stepped back a day: the throttle must still open after check_interval
    clock.jump_wall(-86400)
    scheduler.wake_at = clock.monotonic() + 30
    clock.advance(30)
    assert scheduler.due(), "a wall clock stepped back stopped the checks"
