"""Differential test: lazycron's cron ticks against an independent oracle, near DST.

Random five-field expressions and random start instants in the hours around daylight
saving transitions, in zones chosen for their quirks: Australia/Lord_Howe (a 30-minute
shift), Pacific/Chatham (+12:45, transitions at 02:45), America/Santiago (transitions at
midnight), Europe/Berlin and America/New_York. lazycron is asked through its public
``lazycron.next_ticks``.

The oracle is cronsim, a separate cron implementation that follows Debian cron. For
wildcard jobs (minute or hour field starts with ``*``) in zones whose offsets are not
whole hours, or whose clocks jump at midnight, cronsim is itself wrong, and the oracle
is a small minute-by-minute model of cronie's main loop (``cron.c``), below.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from cronsim import CronSim
from hypothesis import example, given, settings
from hypothesis import strategies as st

import lazycron
from lazycron.schedules import CronSchedule

ZONES = [
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Europe/Berlin",
    "America/New_York",
]
# cronsim's wildcard jobs are wrong where offsets are not whole hours, and where the
# clock jumps at midnight (it ran "* */2 * * *" at 01:00 in Santiago, and skipped
# "* 1 * * 0" that night)
CRONSIM_WILDCARD_WRONG = {"Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago"}
WINDOW = 6 * 3600  # how far after the start ticks are compared
EPOCH = datetime(1970, 1, 1)


@cache
def transitions(zone_name: str) -> list[float]:
    """The instants at which the zone's UTC offset changes, 2025 through 2027."""
    zone = ZoneInfo(zone_name)

    def offset(moment: float) -> timedelta | None:
        return datetime.fromtimestamp(moment, zone).utcoffset()

    found = []
    day = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    end = datetime(2028, 1, 1, tzinfo=UTC).timestamp()
    while day < end:
        if offset(day) != offset(day + 86400):
            low, high = day, day + 86400
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            found.append(high)
        day += 86400
    return found


# ---- expressions -------------------------------------------------------------------


def field(values: st.SearchStrategy[int], low: int, high: int) -> st.SearchStrategy[str]:
    single = values.map(str)
    ranged = st.tuples(values, values).map(lambda ab: f"{min(ab)}-{max(ab)}")
    equal = values.map(lambda v: f"{v}-{v}")  # croniter reads these as "*"
    # (cronsim reads an equal range with a step, "6-6/1", as running to the field's end)
    stepped = (
        st.tuples(values, st.integers(1, 7))
        .filter(lambda vs: vs[0] < high)
        .map(lambda vs: f"{vs[0]}-{high}/{vs[1]}")
    )
    listed = st.lists(values, min_size=2, max_size=3, unique=True).map(
        lambda vs: ",".join(map(str, sorted(vs)))
    )
    star_step = st.integers(2, 7).map(lambda n: f"*/{n}")
    return st.one_of(st.just("*"), star_step, single, ranged, equal, stepped, listed)


# hours and minutes near the transitions (00:00 Santiago, 01:00-03:00 elsewhere, 02:45
# Chatham) are drawn more often, so that gaps and repeats are hit
near_hours = st.one_of(st.sampled_from([0, 1, 2, 3, 23]), st.integers(0, 23))
near_minutes = st.one_of(st.sampled_from([0, 15, 29, 30, 44, 45, 59]), st.integers(0, 59))
expressions = st.tuples(
    field(near_minutes, 0, 59),
    field(near_hours, 0, 23),
    st.one_of(st.just("*"), st.just("*/2"), field(st.integers(1, 28), 1, 28)),
    st.just("*"),
    st.one_of(st.just("*"), field(st.integers(0, 6), 0, 6)),
).map(" ".join)


@st.composite
def starts(draw: st.DrawFn) -> tuple[str, float]:
    zone = draw(st.sampled_from(ZONES))
    transition = draw(st.sampled_from(transitions(zone)))
    start = transition + draw(st.integers(-5 * 3600, 2 * 3600))
    return zone, start


# ---- the oracle ----------------------------------------------------------------------


def is_wildcard(expression: str) -> bool:
    minute, hour = expression.split()[:2]
    return minute.startswith("*") or hour.startswith("*")


def oracle_ticks(expression: str, zone_name: str, start: float, end: float) -> list[float]:
    if is_wildcard(expression) and zone_name in CRONSIM_WILDCARD_WRONG:
        return cronie_ticks(expression, ZoneInfo(zone_name), start, end)
    ticks = []
    for moment in CronSim(expression, datetime.fromtimestamp(start, ZoneInfo(zone_name))):
        tick = moment.timestamp()
        if tick > end:
            break
        # started inside a repeated hour, cronsim gives a fixed-time job the first copy,
        # which is already past: cron would not run the second copy either
        if tick > start:
            ticks.append(tick)
    return ticks


def cronie_ticks(expression: str, zone: ZoneInfo, start: float, end: float) -> list[float]:
    """cronie's main loop, one real minute at a time.

    cronie keeps a *virtual* clock in local wall-clock minutes. Each minute it compares
    the wall clock with it: one minute on runs every job matching the minute; a jump of
    6 minutes to 3 hours forward (spring) runs wildcard jobs for the current minute and
    fixed-time jobs for every skipped minute; a step back of up to 3 hours (fall) runs
    only wildcard jobs, and the virtual clock waits until the wall clock catches up.
    """
    fields = CronSim(expression, datetime(2000, 1, 1))  # its parser, not croniter's
    wildcard = is_wildcard(expression)

    def matches(wall_minute: int) -> bool:
        wall = EPOCH + timedelta(minutes=wall_minute)
        return (
            wall.minute in fields.minutes
            and wall.hour in fields.hours
            and wall.month in fields.months
            and fields.match_day(wall.date())
        )

    def wall_minute(moment: float) -> int:
        wall = datetime.fromtimestamp(moment, zone).replace(tzinfo=None)
        return int((wall - EPOCH).total_seconds() // 60)

    # run cron from three hours earlier, so that its virtual clock is where it would be
    moment = (math.floor(start / 60) + 1) * 60 - 3 * 3600
    virtual = wall_minute(moment - 60)
    ticks = []
    while moment <= end:
        running = wall_minute(moment)
        difference = running - virtual
        if difference == 1 or abs(difference) > 180:
            virtual, due = running, matches(running)
        elif 1 < difference <= 5:  # woke up late: every minute, every job
            due = any(matches(v) for v in range(virtual + 1, running + 1))
            virtual = running
        elif difference > 5:  # clocks went forward
            due = (wildcard and matches(running)) or (
                not wildcard and any(matches(v) for v in range(virtual + 1, running + 1))
            )
            virtual = running
        else:  # clocks went back: wildcard jobs only, the virtual clock waits
            due = wildcard and matches(running)
        if due and moment > start:
            ticks.append(float(moment))
        moment += 60
    return ticks


# ---- the test ------------------------------------------------------------------------


@settings(max_examples=150, deadline=timedelta(seconds=2))
@given(expression=expressions, where=starts())
# the defects this test found in lazycron 0.1 (croniter's meaning)
@example("*/20 2 * * *", ("Europe/Berlin", datetime(2026, 3, 28, 23, tzinfo=UTC).timestamp()))
@example("* */2 * * *", ("America/Santiago", datetime(2026, 9, 6, 2, tzinfo=UTC).timestamp()))
@example("* 2 * * 0", ("Europe/Berlin", datetime(2026, 10, 24, 23, tzinfo=UTC).timestamp()))
@example("0 2-2 * * *", ("Europe/Berlin", datetime(2026, 10, 24, 23, tzinfo=UTC).timestamp()))
@example("0 0 */2 * 1", ("America/New_York", datetime(2026, 3, 7, 23, tzinfo=UTC).timestamp()))
# a 30-minute gap and repeat, and a 45-minute zone, for wildcard and fixed-time jobs
@example("*/10 2 * * *", ("Australia/Lord_Howe", transitions("Australia/Lord_Howe")[0] - 3600))
@example("*/10 2 * * *", ("Australia/Lord_Howe", transitions("Australia/Lord_Howe")[1] - 3600))
@example("15 2 * * *", ("Australia/Lord_Howe", transitions("Australia/Lord_Howe")[1] - 3600))
@example("*/15 * * * *", ("Pacific/Chatham", transitions("Pacific/Chatham")[0] - 3600))
@example("*/15 * * * *", ("Pacific/Chatham", transitions("Pacific/Chatham")[1] - 3600))
@example("50 2 * * *", ("Pacific/Chatham", transitions("Pacific/Chatham")[1] - 3600))
def test_next_ticks_agree_with_cron_near_transitions(
    expression: str, where: tuple[str, float]
) -> None:
    zone, start = where
    end = start + WINDOW
    expected = oracle_ticks(expression, zone, start, end)
    # one tick more than the oracle found: it must fall after the window
    got = lazycron.next_ticks(
        expression,
        timezone=zone,
        after=datetime.fromtimestamp(start, UTC),
        count=len(expected) + 1,
    )
    ticks = [tick.timestamp() for tick in got]
    assert _iso(ticks[:-1], zone) == _iso(expected, zone)
    assert ticks[-1] > end, f"an extra tick at {_iso(ticks[-1:], zone)}"


def _iso(ticks: list[float], zone: str) -> list[str]:
    return [datetime.fromtimestamp(t, ZoneInfo(zone)).isoformat() for t in ticks]


@settings(max_examples=100, deadline=timedelta(seconds=2))
@given(expression=expressions, where=starts(), elapsed=st.integers(0, WINDOW))
@example("* 2 * * 0", ("Europe/Berlin", datetime(2026, 10, 25, 0, 59, tzinfo=UTC).timestamp()), 660)
def test_the_due_tick_and_skip_count_agree_with_cron(
    expression: str, where: tuple[str, float], elapsed: int
) -> None:
    """What a check finds due after a quiet spell: the latest tick, and how many it skips."""
    zone, reference = where
    now = reference + elapsed
    expected = oracle_ticks(expression, zone, reference, now)
    schedule = CronSchedule.parse(expression)
    due = schedule.latest_due(now, reference, ZoneInfo(zone))
    assert due == ((expected[-1], len(expected) - 1) if expected else None)
