"""The claim decision, a pure function: which tick is due, and what to write or claim.

No backend, no clock, no threads: a state in, a decision out.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import lazycron
from lazycron import Registry
from lazycron.decision import (
    CLOCK_AHEAD_LIMIT,
    Action,
    Decision,
    Owner,
    decide,
    schedule_key,
    wants_attempt,
)
from lazycron.jobs import Job
from lazycron.state import JobState, Run

UTC_ZONE = ZoneInfo("UTC")
OWNER = Owner(run_id="new-run", host="here", pid=1234, proc_start=42)
T0 = datetime(2026, 1, 5, 2, 59, tzinfo=UTC).timestamp()  # a Monday, 02:59 UTC


def declare(*args: object, **options: object) -> Job:
    registry = Registry()
    lazycron.job(*args, name="job", registry=registry, **options)(lambda: None)  # type: ignore[arg-type]
    return registry.get("job")


def at(hour: int, minute: int = 0, day: int = 5) -> float:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC).timestamp()


def run_decide(job: Job, state: JobState | None, now: float, **options: object) -> Decision:
    options.setdefault("lease_live", False)
    options.setdefault("zone", UTC_ZONE)
    return decide(job, state, now=now, owner=OWNER, **options)  # type: ignore[arg-type]


def seen_at(job: Job, when: float, zone: ZoneInfo = UTC_ZONE) -> JobState:
    decision = run_decide(job, None, when, zone=zone)
    assert decision.action is Action.WRITE and decision.state is not None
    return decision.state


def claimed(job: Job, state: JobState, now: float, zone: ZoneInfo = UTC_ZONE) -> JobState:
    """The state after a claim at ``now`` and an ok finish."""
    decision = run_decide(job, state, now, zone=zone)
    assert decision.action is Action.CLAIM and decision.state is not None
    done = copy.deepcopy(decision.state)
    run = done.current
    assert run is not None
    run.outcome, run.ended, done.current = "ok", now + 1, None
    done.record(run, 50)
    return done


def test_first_sight_is_written_and_never_runs() -> None:
    job = declare("0 3 * * *")
    decision = run_decide(job, None, T0)
    assert decision.action is Action.WRITE
    assert decision.state is not None
    assert decision.state.schedule_key == "0 3 * * * in UTC"
    assert decision.state.since == T0 == decision.state.first_seen
    assert decision.next_due == at(3)


def test_the_input_state_is_never_mutated() -> None:
    job = declare(every=60)
    state = seen_at(job, T0)
    before = copy.deepcopy(state)
    decision = run_decide(job, state, T0 + 61)
    assert decision.action is Action.CLAIM
    assert state == before
    assert decision.run is not None and decision.run.run_id == OWNER.run_id
    assert decision.run.proc_start == OWNER.proc_start and decision.run.host == OWNER.host


def test_a_live_lease_means_busy_whatever_is_due() -> None:
    job = declare(every=60)
    state = seen_at(job, T0)
    assert run_decide(job, state, T0 + 600, lease_live=True).action is Action.BUSY
    assert run_decide(job, state, T0, lease_live=True, trigger="manual").action is Action.BUSY


def test_a_dead_run_is_settled_and_rerun_only_when_opted_in() -> None:
    for rerun, expected in ((False, Action.WRITE), (True, Action.CLAIM)):
        job = declare(every=60, rerun_interrupted=rerun)
        state = seen_at(job, T0)
        state.last_tick = T0 + 60
        state.current = Run(run_id="dead", tick=T0 + 60, started=T0 + 61, pid=9, host="h")
        decision = run_decide(job, state, T0 + 70)
        assert decision.action is expected
        assert decision.state is not None
        assert [r.outcome for r in decision.state.history] == ["interrupted"]
        if rerun:
            assert decision.run is not None
            assert (decision.run.tick, decision.run.trigger) == (T0 + 60, "rerun")


@pytest.mark.parametrize(
    ("expression", "zone", "next_tick"),
    [
        ("30 3 * * *", None, at(3, 30, day=6)),
        ("0 4 * * 1-5", None, at(4, day=6)),
        ("0 3 * * *", "America/New_York", at(8, day=6)),  # 03:00 EST
    ],
)
def test_a_changed_schedule_starts_afresh_from_the_change(
    expression: str, zone: str | None, next_tick: float
) -> None:
    old = declare("0 3 * * *")
    state = claimed(old, seen_at(old, T0), at(3) + 30)  # ran for 03:00
    new = declare(expression, timezone=zone) if zone else declare(expression)
    effective = ZoneInfo(zone) if zone else UTC_ZONE
    assert wants_attempt(new, state, at(10), effective) is None  # the change is recorded now
    decision = run_decide(new, state, at(10), zone=effective)
    assert decision.action is Action.WRITE  # never a run at the deploy
    assert decision.state is not None
    assert decision.state.since == at(10)
    assert decision.state.last_tick == at(3)  # only ever moves forward
    assert decision.state.schedule_key == schedule_key(new, effective)
    assert decision.next_due == next_tick
    (note,) = decision.notes
    assert note.level == logging.INFO
    assert note.msg % note.args == (
        f"schedule of 'job' changed from 0 3 * * * in UTC to "
        f"{schedule_key(new, effective)}; next tick "
        f"{datetime.fromtimestamp(next_tick, UTC).isoformat(timespec='seconds')}"
    )


def test_a_changed_zone_alone_is_a_change() -> None:
    job = declare("0 3 * * *")
    state = claimed(job, seen_at(job, T0), at(3) + 30)
    decision = run_decide(job, state, at(10), zone=ZoneInfo("America/Chicago"))
    assert decision.action is Action.WRITE
    assert decision.next_due == at(9, day=6)  # 03:00 CST tomorrow, not 09:00 UTC today


def test_a_changed_interval_re_anchors_its_grid() -> None:
    old, new = declare(every=60), declare(every=90)
    state = claimed(old, seen_at(old, T0), T0 + 120)
    decision = run_decide(new, state, T0 + 150)
    assert decision.action is Action.WRITE
    assert decision.next_due == T0 + 150 + 90


def test_an_old_state_without_a_key_is_adopted_silently() -> None:
    job = declare(every=60)
    old = JobState(first_seen=T0, last_tick=T0 + 60, schedule="every 1m")
    assert wants_attempt(job, old, T0 + 90, UTC_ZONE) == T0 + 120
    decision = run_decide(job, old, T0 + 121)
    assert decision.action is Action.CLAIM and decision.notes == ()
    assert decision.run is not None and decision.run.tick == T0 + 120
    assert decision.state is not None and decision.state.schedule_key == "every 1m"


def test_a_tick_claimed_far_ahead_restarts_the_plan_from_now() -> None:
    job = declare(every=60)
    state = seen_at(job, T0)
    state.last_tick = T0 + 365 * 86400  # claimed while the clock was a year ahead
    now = T0 + 600
    assert wants_attempt(job, state, now, UTC_ZONE) is None
    decision = run_decide(job, state, now)
    assert decision.action is Action.WRITE
    assert decision.state is not None and decision.state.since == now
    assert decision.next_due == now + 60
    assert [n.level for n in decision.notes] == [logging.WARNING]
    # a tick less than the limit ahead is an ordinary future: wait for it
    state.last_tick = now + CLOCK_AHEAD_LIMIT - 60
    assert run_decide(job, state, now).action is Action.WAIT


def test_a_late_tick_beyond_max_lateness_is_written_as_skipped() -> None:
    job = declare(every=60, max_lateness=10)
    decision = run_decide(job, seen_at(job, T0), T0 + 90)
    assert decision.action is Action.WRITE
    assert decision.state is not None
    assert [(r.outcome, r.tick) for r in decision.state.history] == [("skipped", T0 + 60)]
    assert decision.state.last_tick == T0 + 60


def test_manual_runs_consume_no_tick() -> None:
    job = declare(every=60)
    state = seen_at(job, T0)
    decision = run_decide(job, state, T0 + 30, trigger="manual")
    assert decision.action is Action.CLAIM
    assert decision.run is not None and decision.run.trigger == "manual"
    assert decision.state is not None and decision.state.last_tick is None


def test_a_manual_run_stands_in_for_a_pending_rerun() -> None:
    """An interrupted run of a ``rerun_interrupted`` job, found by a manual run: the
    manual run settles it and is the one run that follows it, not a second one."""
    job = declare(every=60, rerun_interrupted=True)
    state = seen_at(job, T0)
    state.last_tick = T0 + 60
    state.current = Run(run_id="dead", tick=T0 + 60, started=T0 + 61, pid=9, host="h")
    manual = run_decide(job, state, T0 + 70, trigger="manual")
    assert manual.action is Action.CLAIM and manual.run is not None
    assert manual.run.trigger == "manual"
    assert manual.state is not None
    assert [r.outcome for r in manual.state.history] == ["interrupted"]
    after = copy.deepcopy(manual.state)  # the manual run finished
    finished = copy.deepcopy(manual.run)
    finished.outcome, finished.ended = "ok", T0 + 71
    after.current = None
    after.record(finished, 50)
    assert run_decide(job, after, T0 + 80).action is Action.WAIT  # no re-run follows


def test_intervals_that_describe_alike_have_different_keys() -> None:
    coarse, fine = declare(every=123457), declare(every=123456.7)
    assert coarse.schedule.describe() == fine.schedule.describe()  # rounded for humans
    assert schedule_key(coarse, UTC_ZONE) != schedule_key(fine, UTC_ZONE)
    assert schedule_key(declare(every=60), UTC_ZONE) == "every 1m"
