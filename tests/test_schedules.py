"""Schedules: next ticks, coalescing, validation and daylight saving time."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import lazycron
from lazycron import Registry
from lazycron._wallclock import WallTime, locate
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
        every_second = CronSchedule.parse("* * * * * *", seconds=True)
        due = every_second.latest_due(ts(2026, 3, 1), ts(2026, 1, 1), UTCZ)
        assert due is not None
        assert due[0] == ts(2026, 3, 1)
        assert due[1] == MAX_COUNTED_SKIPS

    def test_six_fields_means_seconds_last(self) -> None:
        every10s = CronSchedule.parse("* * * * * */10", seconds=True)
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
            ("61 * * * *", r"not valid: field 1 \(minute\) '61' is out of range 0-59"),
            ("every day", "has 2 fields"),
            ("0 0 30 2 *", "never matches"),
            ("", "is empty"),
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


SANTIAGO = ZoneInfo("America/Santiago")


class TestCronMeaning:
    """cron's own meaning where croniter differs (issue: cron semantics differ, silently)."""

    @pytest.mark.parametrize(
        ("expression", "start", "end", "runs"),
        [
            # croniter 7 reads an equal range as "*": these ran hourly, minutely and daily
            ("0 2-2 * * *", ts(2026, 1, 1), ts(2026, 1, 3), 2),
            ("5-5 0 * * *", ts(2026, 1, 1), ts(2026, 1, 3), 2),
            ("0 0 1-1 * *", ts(2026, 1, 1, 1), ts(2026, 3, 1, 1), 2),
            ("0-0/5 2-2/3 * * *", ts(2026, 1, 1), ts(2026, 1, 3), 2),
            ("0 0 * * MON-mon", ts(2026, 1, 1), ts(2026, 1, 15), 2),
        ],
    )
    def test_an_equal_range_is_its_one_value(
        self, expression: str, start: float, end: float, runs: int
    ) -> None:
        assert len(ticks_between(expression, UTCZ, start, end)) == runs

    def test_day_of_month_and_weekday_must_both_match_when_one_starts_with_a_star(
        self,
    ) -> None:
        # odd days of the month that are Mondays, not odd days or Mondays
        ticks = ticks_between("0 0 */2 * 1", UTCZ, ts(2026, 1, 1), ts(2026, 3, 1))
        assert ticks == [
            "2026-01-05 00:00:00",
            "2026-01-19 00:00:00",
            "2026-02-09 00:00:00",
            "2026-02-23 00:00:00",
        ]

    def test_day_of_month_or_weekday_when_neither_starts_with_a_star(self) -> None:
        ticks = ticks_between("0 0 1 * 1", UTCZ, ts(2026, 1, 27), ts(2026, 2, 10))
        assert ticks == ["2026-02-01 00:00:00", "2026-02-02 00:00:00", "2026-02-09 00:00:00"]


class TestWildcardJobsAcrossDaylightSaving:
    """cronie: a wildcard job (minute or hour starts with ``*``) skips the missing times of
    the spring-forward gap and runs in both copies of the repeated hour."""

    def test_restricted_hour_wildcard_job_skips_the_gap(self) -> None:
        # Berlin 2026-03-29: 02:xx does not exist, so "*/20 2" does not run that day
        ticks = ticks_between("*/20 2 * * *", BERLIN, ts(2026, 3, 28, 12), ts(2026, 3, 30, 12))
        assert ticks == ["2026-03-30 00:00:00", "2026-03-30 00:20:00", "2026-03-30 00:40:00"]

    def test_wildcard_job_does_not_run_at_the_jump_for_an_hour_it_does_not_match(
        self,
    ) -> None:
        # Santiago 2026-09-06: 00:00 -04 jumps to 01:00 -03; hour 1 is not in "*/2"
        ticks = ticks_between("* */2 * * *", SANTIAGO, ts(2026, 9, 6, 2, 58), ts(2026, 9, 6, 5, 1))
        # 22:58 and 22:59 -04 on the 5th, then nothing until 02:00 -03 on the 6th
        assert ticks == ["2026-09-06 02:58:00", "2026-09-06 02:59:00", "2026-09-06 05:00:00"]

    def test_restricted_hour_wildcard_job_runs_in_both_copies_of_the_repeated_hour(
        self,
    ) -> None:
        # Berlin 2024-10-27, a Sunday in October: 02:xx happens twice, 120 real minutes
        ticks = ticks_between("* 2 * 10 0", BERLIN, ts(2024, 10, 26), ts(2024, 10, 28))
        assert len(ticks) == 120
        assert ticks[0] == "2024-10-27 00:00:00" and ticks[-1] == "2024-10-27 01:59:00"

    def test_latest_due_in_the_second_copy_finds_the_second_copy(self) -> None:
        every_minute_at_two = CronSchedule.parse("* 2 * * *")
        last_of_first_copy = ts(2026, 10, 25, 0, 59)  # 02:59 CEST
        now = ts(2026, 10, 25, 1, 10, 30)  # 02:10:30 CET
        assert every_minute_at_two.latest_due(now, last_of_first_copy, BERLIN) == (
            ts(2026, 10, 25, 1, 10),
            10,
        )

    def test_fixed_time_job_runs_once_at_the_jump_however_many_gap_times_it_has(
        self,
    ) -> None:
        ticks = ticks_between("0,30 2 * * *", BERLIN, ts(2026, 3, 28, 12), ts(2026, 3, 29, 12))
        assert ticks == ["2026-03-29 01:00:00"]


class TestSeconds:
    def test_a_quartz_expression_is_refused_with_the_fix(self) -> None:
        with pytest.raises(JobDefinitionError) as raised:
            lazycron.job("0 */5 * * * *", name="q", registry=Registry())(lambda: None)
        message = str(raised.value)
        assert "Quartz" in message and "seconds FIRST" in message
        assert "'*/5 * * * *'" in message  # the five fields it probably meant
        assert "@lazycron.job('*/5 * * * * 0', seconds=True)" in message

    def test_seconds_true_allows_a_sixth_field_last(self) -> None:
        registry = Registry()
        lazycron.job("* * * * * */10", seconds=True, name="s", registry=registry)(lambda: None)
        schedule = registry.get("s").schedule
        assert schedule.next_after(ts(2026, 1, 1, 0, 0, 5), UTCZ, 0.0) == ts(2026, 1, 1, 0, 0, 10)

    @pytest.mark.parametrize(
        ("args", "kwargs", "problem"),
        [
            (("*/5 * * * *",), {"seconds": True}, "has 5 fields but seconds=True"),
            (("@daily",), {"seconds": True}, "drop seconds=True"),
            ((), {"every": "5s", "seconds": True}, "only applies to cron"),
            (("* * * * * *",), {"seconds": "yes"}, "seconds= must be True or False"),
        ],
    )
    def test_seconds_misuse_is_refused(
        self, args: tuple[object, ...], kwargs: dict[str, object], problem: str
    ) -> None:
        with pytest.raises(JobDefinitionError, match=problem):
            lazycron.job(*args, name="s", registry=Registry(), **kwargs)(lambda: None)  # type: ignore[arg-type]


class TestFieldErrors:
    @pytest.mark.parametrize(
        ("expression", "problem"),
        [
            ("0 25 * * *", "field 2 (hour) '25' is out of range 0-23"),
            ("0 0 32 * *", "field 3 (day of month) '32' is out of range 1-31"),
            ("0 0 * 13 *", "field 4 (month) '13' is out of range 1-12"),
            ("0 0 * * 8", "field 5 (day of week) '8' is out of range 0-7"),
            ("*/0 * * * *", "field 1 (minute) '*/0' has step '0'"),
            ("0 0 * * FOO", "field 5 (day of week) 'FOO' is not a valid day of week"),
            ("1-70 * * * *", "field 1 (minute) '1-70' is out of range 0-59"),
        ],
    )
    def test_the_field_at_fault_is_named(self, expression: str, problem: str) -> None:
        with pytest.raises(JobDefinitionError) as raised:
            CronSchedule.parse(expression)
        assert problem in str(raised.value)


class TestRandomAndHash:
    @pytest.mark.parametrize(
        ("expression", "field"),
        [
            ("R * * * *", "field 1 (minute) 'R'"),
            ("0 R(0-5) * * *", "field 2 (hour) 'R(0-5)'"),
            ("0 0 * * 1,r", "field 5 (day of week) '1,r'"),
            ("R/10 * * * *", "field 1 (minute) 'R/10'"),
        ],
    )
    def test_random_fields_are_refused(self, expression: str, field: str) -> None:
        # croniter draws R again at every evaluation: "R * * * *" ran 3 to 8 times an hour
        with pytest.raises(JobDefinitionError, match="R \\(random\\)") as raised:
            lazycron.job(expression, name="r", registry=Registry())(lambda: None)
        assert field in str(raised.value)

    def test_names_with_an_r_are_not_random(self) -> None:
        CronSchedule.parse("0 0 * MAR FRI")

    def test_h_is_the_same_value_in_every_process(self) -> None:
        code = (
            "from lazycron.schedules import CronSchedule;"
            "print(CronSchedule.parse('H H * * *', job_name='reports.nightly').describe())"
        )
        outputs = {
            subprocess.run(
                [sys.executable, "-c", code],
                env={**os.environ, "PYTHONHASHSEED": seed},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for seed in ("1", "2", "3")
        }
        here = CronSchedule.parse("H H * * *", job_name="reports.nightly").describe()
        assert outputs == {here + "\n"}
        assert re.fullmatch(r"H H \* \* \* \(= \d+ \d+ \* \* \*\)", here)

    def test_h_forms_resolve_within_their_range(self) -> None:
        for name in (f"job-{i}" for i in range(40)):
            minute, hour = CronSchedule.parse("H H * * *", job_name=name).text.resolved.split()[:2]
            assert 0 <= int(minute) <= 59 and 0 <= int(hour) <= 23
            ranged = CronSchedule.parse("H(0-29) * * * *", job_name=name).text.resolved
            assert 0 <= int(ranged.split()[0]) <= 29
            quarter = ticks_of(CronSchedule.parse("H/15 * * * *", job_name=name), 4)
            assert [m - quarter[0] for m in quarter] == [0, 15, 30, 45] and quarter[0] < 15
            tens = ticks_of(CronSchedule.parse("H(0-29)/10 * * * *", job_name=name), 3)
            assert [m - tens[0] for m in tens] == [0, 10, 20] and tens[-1] <= 29

    def test_h_spreads_jobs(self) -> None:
        minutes = {
            CronSchedule.parse("H * * * *", job_name=f"job-{i}").text.resolved for i in range(40)
        }
        assert len(minutes) > 20

    def test_h_in_day_of_month_stays_in_days_every_month_has(self) -> None:
        for i in range(60):
            day = CronSchedule.parse("0 0 H * *", job_name=f"job-{i}").text.resolved.split()[2]
            assert 1 <= int(day) <= 28

    @pytest.mark.parametrize(
        ("expression", "problem"),
        [
            ("H(30-70) * * * *", "must lie within 0-59"),
            ("H(20-10) * * * *", "must lie within 0-59, low end first"),
            ("H/0 * * * *", "the step after H/ must be 1 or more"),
        ],
    )
    def test_bad_h_is_refused(self, expression: str, problem: str) -> None:
        with pytest.raises(JobDefinitionError, match=re.escape(problem)):
            CronSchedule.parse(expression, job_name="x")

    def test_h_needs_the_job_name(self) -> None:
        with pytest.raises(JobDefinitionError, match="hashed from the job's name"):
            CronSchedule.parse("H * * * *")

    def test_the_decorator_hashes_the_job_name(self) -> None:
        registry = Registry()
        lazycron.job("H * * * *", name="a", registry=registry)(lambda: None)
        expected = CronSchedule.parse("H * * * *", job_name="a").describe()
        assert registry.get("a").schedule.describe() == expected


def ticks_of(schedule: CronSchedule, count: int) -> list[int]:
    """The minutes past the hour of the first ``count`` ticks from 00:00 UTC on a day."""
    reference, minutes = ts(2026, 1, 1) - 1, []
    for _ in range(count):
        reference = schedule.next_after(reference, UTCZ)
        minutes.append(datetime.fromtimestamp(reference, UTC).minute)
    return minutes


def local_day(expression: str, zone: str, day: str) -> list[str]:
    """The ticks on one local calendar day, as local times with their offset."""
    tz = ZoneInfo(zone)
    start = datetime.fromisoformat(day).replace(tzinfo=tz)
    end = start + timedelta(days=1)  # aware arithmetic is wall-clock: the next midnight
    ticks = lazycron.next_ticks(
        expression, timezone=zone, after=start - timedelta(seconds=1), count=100
    )
    return [t.astimezone(tz).strftime("%H:%M%z") for t in ticks if t < end]


class TestReadmeDaylightSavingTable:
    """Every row of the README's DST table, as written there."""

    SPRING, FALL = "2026-03-29", "2026-10-25"

    @pytest.mark.parametrize(
        ("expression", "day", "expected"),
        [
            ("30 2 * * *", SPRING, ["03:00+0200"]),
            ("30 2 * * *", FALL, ["02:30+0200"]),
            ("0,30 2 * * *", SPRING, ["03:00+0200"]),
            ("0,30 2 * * *", FALL, ["02:00+0200", "02:30+0200"]),
            ("30 4 * * *", SPRING, ["04:30+0200"]),
            ("30 4 * * *", FALL, ["04:30+0100"]),
            ("*/20 2 * * *", SPRING, []),
            (
                "*/20 2 * * *",
                FALL,
                [
                    "02:00+0200",
                    "02:20+0200",
                    "02:40+0200",
                    "02:00+0100",
                    "02:20+0100",
                    "02:40+0100",
                ],
            ),
        ],
    )
    def test_berlin_rows(self, expression: str, day: str, expected: list[str]) -> None:
        assert local_day(expression, "Europe/Berlin", day) == expected

    def test_hourly_wildcard_row(self) -> None:
        spring = local_day("0 * * * *", "Europe/Berlin", self.SPRING)
        assert spring[:3] == ["00:00+0100", "01:00+0100", "03:00+0200"] and len(spring) == 23
        fall = local_day("0 * * * *", "Europe/Berlin", self.FALL)
        assert fall[2:4] == ["02:00+0200", "02:00+0100"] and len(fall) == 25

    def test_quarter_hour_wildcard_row(self) -> None:
        assert len(local_day("*/15 * * * *", "Europe/Berlin", self.SPRING)) == 23 * 4
        fall = local_day("*/15 * * * *", "Europe/Berlin", self.FALL)
        assert len(fall) == 25 * 4
        assert fall.count("02:15+0200") == 1 and fall.count("02:15+0100") == 1

    def test_santiago_rows(self) -> None:
        assert local_day("0 0 * * *", "America/Santiago", "2026-09-06") == ["01:00-0300"]
        assert local_day("* */2 * * *", "America/Santiago", "2026-09-06")[0] == "02:00-0300"

    def test_lord_howe_row(self) -> None:
        assert local_day("*/20 1 * * *", "Australia/Lord_Howe", "2026-04-05") == [
            "01:00+1100",
            "01:20+1100",
            "01:40+1100",
            "01:40+1030",
        ]


class TestCost:
    """Checks compute ticks, they never walk the calendar: counted in wall times read."""

    @pytest.mark.parametrize(
        "moment",
        [
            ts(2026, 10, 25, 0, 30),  # 02:30 CEST, the first copy of Berlin's repeated hour
            ts(2026, 10, 25, 0, 59, 59),  # the last second before the clock steps back
            ts(2026, 10, 25, 1, 30),  # 02:30 CET, the second copy
            ts(2026, 3, 29, 0, 59, 59),  # the last second before the spring gap
        ],
    )
    def test_an_every_second_job_near_a_transition_reads_a_few_wall_times(
        self, moment: float, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        every_second = CronSchedule.parse("* * * * * *", seconds=True)
        read = 0

        def counting(wall: datetime, zone: ZoneInfo) -> WallTime:
            nonlocal read
            read += 1
            return locate(wall, zone)

        monkeypatch.setattr(lazycron.schedules, "locate", counting)
        assert every_second.next_after(moment, BERLIN) == math.floor(moment) + 1
        assert every_second.latest_due(moment + 2.5, moment, BERLIN) == (math.floor(moment) + 2, 1)
        assert read < 20


class TestNextTicks:
    AFTER = datetime(2026, 1, 1, tzinfo=UTC)

    def test_cron_ticks_are_aware_utc(self) -> None:
        ticks = lazycron.next_ticks(
            "0 9 * * *", timezone="Europe/Berlin", after=self.AFTER, count=2
        )
        assert ticks == [datetime(2026, 1, 1, 8, tzinfo=UTC), datetime(2026, 1, 2, 8, tzinfo=UTC)]
        assert all(t.tzinfo is UTC for t in ticks)

    def test_an_interval_grid_starts_at_its_anchor(self) -> None:
        anchor = datetime(2026, 1, 1, 12, 0, 7, tzinfo=UTC)
        # asked from before the anchor: the anchor is first sight, not a tick
        ticks = lazycron.next_ticks(every="30s", anchor=anchor, after=self.AFTER, count=2)
        assert ticks == [anchor + timedelta(seconds=30), anchor + timedelta(seconds=60)]

    def test_h_and_seconds_take_the_options_of_job(self) -> None:
        registry = Registry()
        lazycron.job("H * * * * */30", seconds=True, name="n", registry=registry)(lambda: None)
        ticks = lazycron.next_ticks(
            "H * * * * */30", seconds=True, name="n", after=self.AFTER, count=3
        )
        reference, expected = self.AFTER.timestamp(), []
        for _ in range(3):
            reference = registry.get("n").schedule.next_after(reference, UTCZ, 0.0)
            expected.append(datetime.fromtimestamp(reference, UTC))
        assert ticks == expected

    @pytest.mark.parametrize(
        ("args", "kwargs", "error", "problem"),
        [
            (
                ("* * * * *",),
                {"after": datetime(2026, 1, 1), "count": 1},
                ValueError,
                "no time zone",
            ),
            (("* * * * *",), {"after": "2026-01-01", "count": 1}, TypeError, "takes a datetime"),
            (("* * * * *",), {"after": AFTER, "count": -1}, ValueError, "0 or more"),
            ((), {"every": "5m", "after": AFTER, "count": 1}, JobDefinitionError, "needs anchor="),
            (
                ("* * * * *",),
                {"anchor": AFTER, "after": AFTER, "count": 1},
                JobDefinitionError,
                "only applies to every=",
            ),
            ((), {"after": AFTER, "count": 1}, JobDefinitionError, "exactly one schedule"),
            (("H * * * *",), {"after": AFTER, "count": 1}, JobDefinitionError, "name="),
        ],
    )
    def test_bad_arguments_are_named(
        self, args: tuple[object, ...], kwargs: dict[str, object], error: type, problem: str
    ) -> None:
        with pytest.raises(error, match=problem):
            lazycron.next_ticks(*args, **kwargs)  # type: ignore[call-overload]
