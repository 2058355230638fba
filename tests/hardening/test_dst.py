"""Daylight saving time through the whole scheduler (docs/design.md#explicit-time-zones).

tests/test_schedules.py pins the schedule arithmetic; here the fake clock steps minute by
minute through each transition night, a request is checked every minute, and we count
what actually ran. Expected ticks are written out by hand, in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import lazycron
from lazycron.testing import FakeClock

from ..helpers import run_check


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def every(step_minutes: int, start: str, end: str) -> list[float]:
    """Every UTC instant on a ``step_minutes`` grid in (start, end]."""
    first, last = utc(start), utc(end)
    ticks, moment = [], first + step_minutes * 60
    while moment <= last:
        ticks.append(moment)
        moment += step_minutes * 60
    return ticks


# zone, night (UTC window, first sight at its start), and the ticks each schedule must run.
NIGHTS = {
    # Europe/Berlin spring forward: 02:00 CET -> 03:00 CEST at 01:00 UTC
    ("Europe/Berlin", "spring"): ("2026-03-28T22:00", "2026-03-29T03:00"),
    # Europe/Berlin fall back: 03:00 CEST -> 02:00 CET at 01:00 UTC (02:xx happens twice)
    ("Europe/Berlin", "fall"): ("2026-10-24T22:00", "2026-10-25T04:00"),
    # America/New_York spring forward: 02:00 EST -> 03:00 EDT at 07:00 UTC
    ("America/New_York", "spring"): ("2026-03-08T05:00", "2026-03-08T10:00"),
    # America/New_York fall back: 02:00 EDT -> 01:00 EST at 06:00 UTC (01:xx twice)
    ("America/New_York", "fall"): ("2026-11-01T04:00", "2026-11-01T10:00"),
}
FIXED = {
    # the missing 02:30 runs at the first instant after the gap (03:00 CEST)
    ("Europe/Berlin", "spring", "30 2 * * *"): ["2026-03-29T01:00"],
    # the repeated 02:30 runs once, in the first copy (02:30 CEST), like classic cron
    ("Europe/Berlin", "fall", "30 2 * * *"): ["2026-10-25T00:30"],
    ("America/New_York", "spring", "30 2 * * *"): ["2026-03-08T07:00"],
    # 02:30 is not in New York's repeated hour; 01:30 is, and runs once (01:30 EDT)
    ("America/New_York", "fall", "30 2 * * *"): ["2026-11-01T07:30"],
    ("America/New_York", "fall", "30 1 * * *"): ["2026-11-01T05:30"],
}
# wildcard-hour jobs run in both copies of a repeated hour and skip nothing in a gap: in
# UTC they are a plain grid
WILDCARD = {"0 * * * *": 60, "*/15 * * * *": 15}

CASES = [
    *[(zone, night, expr, [utc(t) for t in ticks]) for (zone, night, expr), ticks in FIXED.items()],
    *[
        (zone, night, expr, every(step, *NIGHTS[zone, night]))
        for (zone, night) in NIGHTS
        for expr, step in WILDCARD.items()
    ],
]


@pytest.mark.parametrize(
    ("zone", "night", "expression", "expected"),
    CASES,
    ids=[
        f"{zone.split('/')[1]}-{night}-{expr.replace(' ', '_')}" for zone, night, expr, _ in CASES
    ],
)
def test_transition_night_minute_by_minute(
    make_scheduler, registry, zone: str, night: str, expression: str, expected: list[float]
) -> None:
    start, end = NIGHTS[zone, night]
    clock = FakeClock(datetime.fromisoformat(start).replace(tzinfo=UTC))
    ran: list[float] = []

    @lazycron.job(expression, name="job", timezone=zone, registry=registry)
    def record() -> None:
        run = lazycron.current_run()
        assert run is not None
        ran.append(run.tick)

    scheduler = make_scheduler(clock=clock)
    run_check(scheduler)  # first sight, at the start of the night
    minutes = int((utc(end) - utc(start)) // 60)
    for _ in range(minutes):
        clock.advance(60)
        run_check(scheduler)
    assert len(ran) == len(set(ran)), "a UTC tick fired twice"
    assert [_iso(t) for t in ran] == [_iso(t) for t in expected]
    # and each ran at the first check at or after its tick, not an hour late
    state = scheduler.runner.read(registry.get("job"))
    assert state is not None
    assert all(r.lateness < 60 and r.skipped == 0 for r in state.history)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%m-%d %H:%MZ")


# Wildcard jobs whose hour is restricted (cronie's rule): they skip the gap, and run in
# both copies of a repeated hour. lazycron 0.1 ran the first two at the jump, and the
# third skipped the second copy of 02:xx and waited a year.
WILDCARD_RESTRICTED = [
    # Berlin spring forward: 02:xx does not exist, so nothing runs that night
    ("Europe/Berlin", "*/20 2 * * *", "2026-03-28T22:00", "2026-03-29T03:00", []),
    # Santiago spring forward at midnight: 00:xx is skipped, hour 1 does not match
    (
        "America/Santiago",
        "* */2 * * *",
        "2026-09-06T03:57",
        "2026-09-06T05:02",
        ["2026-09-06T05:00", "2026-09-06T05:01", "2026-09-06T05:02"],
    ),
    # Berlin fall back on a Sunday in October: both copies of 02:00-02:59, 120 runs
    (
        "Europe/Berlin",
        "* 2 * 10 0",
        "2024-10-26T23:30",
        "2024-10-27T02:30",
        every(1, "2024-10-26T23:59", "2024-10-27T01:59"),
    ),
]


@pytest.mark.parametrize(
    ("zone", "expression", "start", "end", "expected"),
    WILDCARD_RESTRICTED,
    ids=[
        f"{zone.split('/')[1]}-{expr.replace(' ', '_')}" for zone, expr, *_ in WILDCARD_RESTRICTED
    ],
)
def test_wildcard_job_with_a_restricted_hour_minute_by_minute(
    make_scheduler, registry, zone: str, expression: str, start: str, end: str, expected: list[str]
) -> None:
    clock = FakeClock(datetime.fromisoformat(start).replace(tzinfo=UTC))
    ran: list[float] = []

    @lazycron.job(expression, name="job", timezone=zone, registry=registry)
    def record() -> None:
        run = lazycron.current_run()
        assert run is not None
        ran.append(run.tick)

    scheduler = make_scheduler(clock=clock)
    run_check(scheduler)  # first sight
    for _ in range(int((utc(end) - utc(start)) // 60)):
        clock.advance(60)
        run_check(scheduler)
    want = [t if isinstance(t, float) else utc(t) for t in expected]
    assert [_iso(t) for t in ran] == [_iso(t) for t in want]
