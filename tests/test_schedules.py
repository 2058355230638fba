"""Schedules: next ticks, coalescing, validation and daylight saving time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lazycron.errors import JobDefinitionError
from lazycron.schedules import (
    MAX_COUNTED_SKIPS,
    CronSchedule,
    IntervalSchedule,
    parse_interval,
    resolve_timezone,
)

UTCZ = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def ts(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    tz: ZoneInfo = UTCZ,
    fold: int = 0,
) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=tz, fold=fold).timestamp()


def utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


class TestCron:
    def test_next_after_is_strictly_after_and_on_the_grid(self) -> None:
        every5 = CronSchedule.parse("*/5 * * * *")
        assert every5.next_after(ts(2026, 1, 1, 0, 5), UTCZ) == ts(2026, 1, 1, 0, 10)
        assert every5.next_after(ts(2026, 1, 1, 0, 5, 30), UTCZ) == ts(2026, 1, 1, 0, 10)

    def test_latest_due_includes_a_tick_exactly_at_now(self) -> None:
        every5 = CronSchedule.parse("*/5 * * * *")
        assert every5.latest_due(ts(2026, 1, 1, 0, 10), ts(2026, 1, 1, 0, 5), UTCZ) == (
            ts(2026, 1, 1, 0, 10),
            0,
        )

    def test_latest_due_is_none_before_the_next_tick(self) -> None:
        every5 = CronSchedule.parse("*/5 * * * *")
        assert every5.latest_due(ts(2026, 1, 1, 0, 9, 59), ts(2026, 1, 1, 0, 5), UTCZ) is None

    def test_missed_ticks_coalesce_into_the_latest_with_a_count(self) -> None:
        every5 = CronSchedule.parse("*/5 * * * *")
        due = every5.latest_due(ts(2026, 1, 1, 1, 2), ts(2026, 1, 1, 0, 0), UTCZ)
        # ticks 00:05 .. 01:00 are due: run 01:00, skip the 11 before it
        assert due == (ts(2026, 1, 1, 1, 0), 11)

    def test_skip_count_is_capped_after_a_huge_gap(self) -> None:
        every_second = CronSchedule.parse("* * * * * *")
        due = every_second.latest_due(ts(2026, 3, 1), ts(2026, 1, 1), UTCZ)
        assert due is not None
        assert due[0] == ts(2026, 3, 1)
        assert due[1] == MAX_COUNTED_SKIPS

    def test_six_fields_means_seconds_last(self) -> None:
        every10s = CronSchedule.parse("* * * * * */10")
        assert every10s.next_after(ts(2026, 1, 1, 0, 0, 5), UTCZ) == ts(2026, 1, 1, 0, 0, 10)

    def test_aliases(self) -> None:
        assert CronSchedule.parse("@daily").next_after(ts(2026, 1, 1, 3), UTCZ) == ts(2026, 1, 2)
        assert CronSchedule.parse("@HOURLY").fixed_time is False
        assert CronSchedule.parse("@daily").fixed_time is True

    def test_is_read_in_its_zone(self) -> None:
        nine = CronSchedule.parse("0 9 * * *")
        assert utc(nine.next_after(ts(2026, 1, 1), BERLIN)) == "2026-01-01 08:00:00"
        assert utc(nine.next_after(ts(2026, 7, 1), BERLIN)) == "2026-07-01 07:00:00"

    @pytest.mark.parametrize(
        ("expression", "problem"),
        [
            ("* * * *", "has 4 fields"),
            ("* * * * * * *", "has 7 fields"),
            ("61 * * * *", "is not valid"),
            ("every day", "has 2 fields"),
            ("0 0 30 2 *", "never matches"),
            ("", "has 1 fields"),
        ],
    )
    def test_bad_expressions_raise_our_error(self, expression: str, problem: str) -> None:
        with pytest.raises(JobDefinitionError, match=problem):
            CronSchedule.parse(expression)

    def test_non_string_is_refused(self) -> None:
        with pytest.raises(JobDefinitionError, match="must be a string"):
            CronSchedule.parse(5)


class TestInterval:
    def test_grid_is_anchored_at_the_reference(self) -> None:
        every30 = IntervalSchedule(30)
        assert every30.next_after(100.0, UTCZ, 100.0) == 130.0
        assert every30.latest_due(129.9, 100.0, UTCZ, 100.0) is None
        assert every30.latest_due(130.0, 100.0, UTCZ, 100.0) == (130.0, 0)
        # a reference off the grid (the interval was changed) still lands on the grid
        assert every30.next_after(145.0, UTCZ, 100.0) == 160.0

    def test_ticks_do_not_accumulate_rounding_error(self) -> None:
        every = IntervalSchedule(1.2)
        anchor = 1767614400.0
        tick = anchor
        for k in range(1, 1000):
            tick = every.next_after(tick, UTCZ, anchor)
            assert tick == anchor + k * 1.2

    def test_coalescing_is_arithmetic(self) -> None:
        every30 = IntervalSchedule(30)
        # a week of silence: one run, on the grid, skip count computed
        week = 7 * 86400
        assert every30.latest_due(100.0 + week + 5, 100.0, UTCZ, 100.0) == (
            100.0 + week,
            week // 30 - 1,
        )

    @pytest.mark.parametrize(
        ("every", "seconds"),
        [
            (30, 30.0),
            (0.5, 0.5),
            (timedelta(minutes=2), 120.0),
            ("30s", 30.0),
            ("5m", 300.0),
            ("2h", 7200.0),
            ("1d", 86400.0),
            ("1h30m", 5400.0),
            (" 10 s ", 10.0),
        ],
    )
    def test_parse(self, every: object, seconds: float) -> None:
        assert parse_interval(every).seconds == seconds

    @pytest.mark.parametrize(
        "every", [0, -5, "0s", timedelta(0), "5 minutes", "m5", "", True, None, [5], float("inf")]
    )
    def test_bad_intervals_raise_our_error(self, every: object) -> None:
        with pytest.raises(JobDefinitionError, match="every="):
            parse_interval(every)


def test_unknown_time_zone_is_named() -> None:
    with pytest.raises(JobDefinitionError, match="unknown time zone 'Mars/Olympus'"):
        resolve_timezone("Mars/Olympus")


def ticks_between(expression: str, zone: ZoneInfo, start: float, end: float) -> list[str]:
    """Every tick the schedule produces in [start, end), as UTC strings."""
    schedule = CronSchedule.parse(expression)
    out, reference = [], start - 1
    while (reference := schedule.next_after(reference, zone)) < end:
        out.append(utc(reference))
    return out


class TestDaylightSaving:
    """Classic cron semantics, as documented in the README."""

    def test_fixed_time_job_in_the_spring_forward_gap_runs_once_after_it(self) -> None:
        # Europe/Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
        ticks = ticks_between("30 2 * * *", BERLIN, ts(2026, 3, 28, 12), ts(2026, 3, 30, 12))
        assert ticks == ["2026-03-29 01:00:00", "2026-03-30 00:30:00"]  # 03:00 CEST, 02:30 CEST

    def test_fixed_time_job_runs_once_on_fall_back_day(self) -> None:
        # Europe/Berlin, 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        ticks = ticks_between("30 2 * * *", BERLIN, ts(2026, 10, 24, 12), ts(2026, 10, 26, 12))
        assert ticks == ["2026-10-25 00:30:00", "2026-10-26 01:30:00"]

    def test_hourly_wildcard_job_runs_in_both_copies_of_the_repeated_hour(self) -> None:
        ticks = ticks_between("0 * * * *", BERLIN, ts(2026, 10, 24, 23, 30), ts(2026, 10, 25, 3))
        assert ticks == [
            "2026-10-25 00:00:00",  # 02:00 CEST
            "2026-10-25 01:00:00",  # 02:00 CET, the second 02:00, a distinct instant
            "2026-10-25 02:00:00",
        ]

    def test_quarter_hour_job_keeps_its_rhythm_through_both_transitions(self) -> None:
        for start, end in [
            (ts(2026, 3, 29, 0), ts(2026, 3, 29, 4)),
            (ts(2026, 10, 25, 0), ts(2026, 10, 25, 4)),
        ]:
            ticks = ticks_between("*/15 * * * *", BERLIN, start, end)
            assert len(ticks) == 16  # four hours of real time, every 15 minutes
            assert len(set(ticks)) == len(ticks)

    def test_new_york_fall_back_fixed_time_runs_once(self) -> None:
        # America/New_York, 2026-11-01: 02:00 EDT falls back to 01:00 EST.
        ticks = ticks_between("30 1 * * *", NEW_YORK, ts(2026, 10, 31, 12), ts(2026, 11, 2, 12))
        assert ticks == ["2026-11-01 05:30:00", "2026-11-02 06:30:00"]

    def test_new_york_spring_forward_fixed_time_runs_once(self) -> None:
        # America/New_York, 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        ticks = ticks_between("30 2 * * *", NEW_YORK, ts(2026, 3, 7, 12), ts(2026, 3, 9, 12))
        assert ticks == ["2026-03-08 07:00:00", "2026-03-09 06:30:00"]

    def test_latest_due_never_picks_the_repeated_copy_of_a_fixed_time(self) -> None:
        daily = CronSchedule.parse("30 2 * * *")
        first = ts(2026, 10, 25, 2, 30, tz=BERLIN, fold=0)
        # inside the second 02:30 (CET), with the first already claimed: nothing is due
        assert daily.latest_due(first + 3600 + 60, first, BERLIN) is None
