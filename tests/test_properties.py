"""Property-based tests: the ticks that ran are exactly the coalesced ticks expected.

The expectation is computed independently of lazycron's schedule code: every tick in the
window is enumerated by brute force, and for each request we expect one run, for the
latest tick since the previous run, if there is one.
"""

from __future__ import annotations

import contextlib
import copy
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lazycron
from lazycron import Registry, Scheduler
from lazycron.backends import FileBackend
from lazycron.decision import Action, Decision, Owner, decide, schedule_key, wants_attempt
from lazycron.jobs import Job
from lazycron.state import MAX_HISTORY_LIMIT, JobState, StateFormatError, decode
from lazycron.testing import FakeClock

from .helpers import run_check

START = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
CRONS = [
    "* * * * *",
    "*/5 * * * *",
    "7,19 * * * *",
    "* * * * * */15",
    "0 * * * *",
    "*/2 10-14 * * *",
]


def all_ticks(schedule: str | float, first_seen: float, end: float) -> list[float]:
    if isinstance(schedule, float):
        # tick k is first_seen + k * interval; a tick within the documented millisecond
        # of rounding tolerance of "now" counts as reached
        ticks, k = [], 1
        while first_seen + k * schedule <= end + 1e-3:
            ticks.append(first_seen + k * schedule)
            k += 1
        return ticks
    it = croniter(schedule, datetime.fromtimestamp(first_seen, UTC))
    ticks = []
    while (tick := it.get_next(float)) <= end:
        ticks.append(tick)
    return ticks


def expected_runs(ticks: list[float], requests: list[float]) -> list[tuple[float, int]]:
    runs, last = [], float("-inf")
    for now in requests:
        window = [t for t in ticks if last < t <= now + 1e-3]
        if window:
            runs.append((window[-1], len(window) - 1))
            last = window[-1]
    return runs


schedules = st.one_of(
    st.sampled_from(CRONS),
    st.floats(min_value=1, max_value=900).map(lambda f: float(round(f, 1))),
)
gaps = st.lists(
    st.floats(min_value=0, max_value=1800).map(lambda f: round(f, 2)), min_size=1, max_size=30
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=schedules, gaps=gaps)
def test_ticks_run_equal_coalesced_ticks_expected(schedule: str | float, gaps: list[float]) -> None:
    clock = FakeClock(START)
    registry = Registry()
    ran: list[float] = []
    if isinstance(schedule, str):
        six_fields = len(schedule.split()) == 6
        lazycron.job(schedule, seconds=six_fields, name="job", registry=registry)(
            lambda: ran.append(clock.time())
        )
    else:
        lazycron.job(every=schedule, name="job", registry=registry)(
            lambda: ran.append(clock.time())
        )
    with tempfile.TemporaryDirectory() as directory:
        scheduler = Scheduler(
            registry,
            state_dir=directory,
            clock=clock,
            check_interval=0,
            history_limit=MAX_HISTORY_LIMIT,
        )
        first_seen = clock.time()
        run_check(scheduler)  # the first request: first sight
        requests = []
        for gap in gaps:
            clock.advance(gap)
            requests.append(clock.time())
            run_check(scheduler)
        state = scheduler.runner.read(registry.get("job"))
        assert state is not None
        runs = [(r.tick, r.skipped) for r in state.history]
    expected = expected_runs(all_ticks(schedule, first_seen, requests[-1]), requests)
    assert runs == expected
    assert len(ran) == len(expected)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_escape_the_decoder(data: bytes) -> None:
    with contextlib.suppress(StateFormatError):
        decode(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=500))
def test_arbitrary_state_file_reads_as_state_or_unreadable(data: bytes) -> None:
    from lazycron.backends import StateUnreadableError

    with tempfile.TemporaryDirectory() as directory:
        backend = FileBackend(directory)
        backend.path_for("job").write_bytes(data)
        with contextlib.suppress(StateUnreadableError):
            backend.read("job")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_schedules_parse_or_raise_our_error(text: str) -> None:
    with contextlib.suppress(lazycron.JobDefinitionError):
        lazycron.job(text, name="fuzz", registry=Registry())(lambda: None)


def test_job_names_map_to_distinct_safe_files(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path)
    names = ["../../etc/x", "a/b", "a_b", ".hidden", "", "é", "a" * 500, "con", "x\x00y"]
    paths = [backend.path_for(n) for n in names]
    assert len(set(paths)) == len(names)
    for path in paths:
        assert path.parent == tmp_path
        assert not path.name.startswith(".")
        assert len(path.name) < 100


# -- the decision alone: no backend, no threads, no files -----------------------------------

OWNER = Owner(run_id="run", host="here", pid=1, proc_start=None)
UTC_ZONE = ZoneInfo("UTC")


def declared(schedule: str | float, **options: Any) -> Job:
    registry = Registry()
    if isinstance(schedule, str):
        seconds = len(schedule.split()) == 6
        lazycron.job(schedule, seconds=seconds, name="job", registry=registry, **options)(
            lambda: None
        )
    else:
        lazycron.job(every=schedule, name="job", registry=registry, **options)(lambda: None)
    return registry.get("job")


def finished(decision: Decision, now: float) -> JobState:
    """What the shell does after a claim: run, then record the outcome."""
    assert decision.state is not None and decision.run is not None
    state = copy.deepcopy(decision.state)
    run = state.current
    assert run is not None
    run.outcome, run.ended, state.current = "ok", now, None
    state.record(run, MAX_HISTORY_LIMIT)
    return state


@settings(max_examples=150, deadline=None)
@given(schedule=schedules, gaps=gaps)
def test_the_decision_alone_claims_exactly_the_coalesced_ticks(
    schedule: str | float, gaps: list[float]
) -> None:
    job = declared(schedule)
    now = START.timestamp()
    first = decide(job, None, lease_live=False, now=now, zone=UTC_ZONE, owner=OWNER)
    assert first.action is Action.WRITE and first.state is not None
    state, first_seen = first.state, now
    claimed: list[tuple[float, int]] = []
    requests = []
    for gap in gaps:
        now += gap
        requests.append(now)
        # whatever is due, a live lease elsewhere means: touch nothing
        busy = decide(job, state, lease_live=True, now=now, zone=UTC_ZONE, owner=OWNER)
        assert busy.action is Action.BUSY
        decision = decide(job, state, lease_live=False, now=now, zone=UTC_ZONE, owner=OWNER)
        wait_until = wants_attempt(job, state, now, UTC_ZONE)
        if decision.action is Action.CLAIM:
            assert wait_until is None  # the cheap pre-check never hides a due tick
            assert decision.run is not None
            claimed.append((decision.run.tick, decision.run.skipped))
            state = finished(decision, now)
        else:
            assert decision.action is Action.WAIT
            assert decision.next_due is not None and decision.next_due > now - 1e-3
    assert claimed == expected_runs(all_ticks(schedule, first_seen, requests[-1]), requests)


@settings(max_examples=150, deadline=None)
@given(
    old=st.sampled_from(CRONS),
    new=st.sampled_from(CRONS),
    new_zone=st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"]),
    before=gaps,
    after=gaps,
)
def test_after_a_schedule_change_no_tick_earlier_than_the_change_is_claimed(
    old: str, new: str, new_zone: str, before: list[float], after: list[float]
) -> None:
    old_job, new_job = declared(old), declared(new, timezone=new_zone)
    zone_of = {id(old_job): UTC_ZONE, id(new_job): ZoneInfo(new_zone)}  # as the runner does
    changed = schedule_key(old_job, UTC_ZONE) != schedule_key(new_job, ZoneInfo(new_zone))
    now, changed_at = START.timestamp(), float("inf")
    state = decide(old_job, None, lease_live=False, now=now, zone=UTC_ZONE, owner=OWNER).state
    for job, steps in ((old_job, before), (new_job, after)):
        if job is new_job:
            changed_at = now
        zone = zone_of[id(job)]
        for gap in steps:
            now += gap
            assert state is not None
            decision = decide(job, state, lease_live=False, now=now, zone=zone, owner=OWNER)
            if decision.action is Action.CLAIM:
                assert decision.run is not None
                # last_tick, the fencing token, only moves forward
                assert state.last_tick is None or decision.run.tick > state.last_tick
                if changed and job is new_job:
                    assert decision.run.tick > changed_at
                state = finished(decision, now)
            elif decision.action is Action.WRITE:
                state = decision.state
    assert state is not None
    assert state.schedule_key == schedule_key(new_job, ZoneInfo(new_zone))
