"""Schedules: when a job's ticks fall.

A schedule answers two questions about *ticks* (scheduled instants, as UTC POSIX
timestamps):

* ``next_after(reference)``: the first tick strictly after ``reference``;
* ``latest_due(now, reference)``: the most recent tick in ``(reference, now]``, plus how
  many earlier ticks in that window were skipped (missed ticks coalesce into one run).

``reference`` is the job's last claimed tick, or the moment the job was first seen. Ticks
are always derived from the previous tick, never from the time a request happened to
arrive, so schedules do not drift with traffic.

Both kinds are validated when they are built, so a bad expression fails at import time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

from .errors import JobDefinitionError

__all__ = [
    "TICK_TOLERANCE",
    "CronSchedule",
    "IntervalSchedule",
    "Schedule",
    "parse_interval",
    "resolve_timezone",
]

# How many skipped cron ticks we are willing to count exactly. Past this the count is
# reported as "at least N": a clock that jumped forward by months must not make a check
# walk millions of ticks.
MAX_COUNTED_SKIPS = 1000

# croniter's shorthand expressions, and whether each is "fixed time" (see CronSchedule).
_ALIASES = {
    "@yearly": True,
    "@annually": True,
    "@monthly": True,
    "@weekly": True,
    "@daily": True,
    "@midnight": True,
    "@hourly": False,
}


class Schedule(Protocol):
    """What the scheduler needs from a schedule. Everything is in UTC timestamps.

    ``anchor`` is the moment the job was first seen: interval grids start there, so that
    tick *k* is always ``anchor + k * interval``, computed in one step (adding intervals
    one after another would let floating-point error creep into the ticks).
    """

    def next_after(self, reference: float, zone: tzinfo, anchor: float) -> float: ...

    def latest_due(
        self, now: float, reference: float, zone: tzinfo, anchor: float
    ) -> tuple[float, int] | None:
        """The latest tick in ``(reference, now]`` and the number of earlier ticks skipped,
        or ``None`` when no tick falls in that window."""
        ...

    def describe(self) -> str: ...


# How close to a tick counts as "at" it, in seconds. Today's timestamps (~1.8e9) are only
# precise to about 2.4e-7 s as floats: anchor + 3 * 1.2 lands a hair *before* the true
# tick, and a wake-up computed from two separately read clocks can land a hair after
# it. A millisecond is far above that rounding and far below anything that matters. The
# interval grid, the runner and the scheduler's wake-ups all use this one value.
TICK_TOLERANCE = 1e-3


@dataclass(frozen=True)
class IntervalSchedule:
    """Every ``seconds`` seconds, on a grid anchored where the job was first seen."""

    seconds: float

    def _slot(self, moment: float, anchor: float) -> int:
        tolerance = min(TICK_TOLERANCE, self.seconds / 1000)
        return math.floor((moment - anchor + tolerance) / self.seconds)

    def next_after(self, reference: float, zone: tzinfo, anchor: float) -> float:
        return anchor + (self._slot(reference, anchor) + 1) * self.seconds

    def latest_due(
        self, now: float, reference: float, zone: tzinfo, anchor: float
    ) -> tuple[float, int] | None:
        # Computed, never looped: a quiet week costs the same as a quiet minute.
        latest, previous = self._slot(now, anchor), self._slot(reference, anchor)
        if latest <= previous:
            return None
        return anchor + latest * self.seconds, latest - previous - 1

    def describe(self) -> str:
        return f"every {_format_seconds(self.seconds)}"


@dataclass(frozen=True)
class CronSchedule:
    """A cron expression read in a time zone.

    Five fields (minute hour day month weekday), or six with seconds as the **last** field
    (croniter's convention), or an alias such as ``@daily``.

    Daylight saving time follows classic cron. When clocks spring forward, a tick that
    falls in the missing hour runs at the first instant after the gap (croniter's rule).
    When clocks fall back, a *fixed-time* job (neither minute nor hour field starts with
    ``*``) runs once, in the first copy of the repeated hour, while a wildcard job such as
    ``*/15 * * * *`` runs in both copies, because both are real, distinct instants.
    """

    expression: str
    fixed_time: bool

    @classmethod
    def parse(cls, expression: object) -> CronSchedule:
        if not isinstance(expression, str):
            raise JobDefinitionError(
                f"a cron expression must be a string, not {type(expression).__name__}"
            )
        text = " ".join(expression.split())
        if text.lower() in _ALIASES:
            return cls(text.lower(), fixed_time=_ALIASES[text.lower()])
        fields = text.split(" ")
        if len(fields) not in (5, 6):
            raise JobDefinitionError(
                f"cron expression {expression!r} has {len(fields)} fields; use 5 "
                "(minute hour day month weekday) or 6 (the same plus seconds, last)"
            )
        try:
            valid = croniter.is_valid(text)
        except Exception:  # croniter may raise instead of answering on odd input
            valid = False
        if not valid:
            raise JobDefinitionError(
                f"cron expression {expression!r} is not valid (see `man 5 crontab`; "
                "fields are minute hour day month weekday [second])"
            )
        schedule = cls(
            text, fixed_time=not (fields[0].startswith("*") or fields[1].startswith("*"))
        )
        # An expression can be well formed and still never match ("0 0 30 2 *").
        try:
            schedule.next_after(datetime(2000, 1, 1).timestamp(), ZoneInfo("UTC"), 0.0)
        except (CroniterBadDateError, CroniterError, ValueError, OverflowError) as exc:
            raise JobDefinitionError(
                f"cron expression {expression!r} never matches a real date ({exc})"
            ) from None
        return schedule

    def _iter(self, start: datetime, *, backwards: bool = False) -> croniter:
        try:
            return croniter(self.expression, start, is_prev=backwards)
        except CroniterBadCronError as exc:  # pragma: no cover - validated in parse()
            raise JobDefinitionError(str(exc)) from None

    def _skip_repeat(self, moment: datetime) -> bool:
        """True for the second copy of a fall-back hour, for fixed-time jobs only."""
        if not self.fixed_time or moment.fold == 0:
            return False
        return moment.replace(fold=0).utcoffset() != moment.utcoffset()

    def next_after(self, reference: float, zone: tzinfo, anchor: float = 0.0) -> float:
        it = self._iter(datetime.fromtimestamp(reference, zone))
        while True:
            moment: datetime = it.get_next(datetime)
            if not self._skip_repeat(moment):
                return moment.timestamp()

    def latest_due(
        self, now: float, reference: float, zone: tzinfo, anchor: float = 0.0
    ) -> tuple[float, int] | None:
        if now <= reference:
            return None
        # croniter's get_prev is strictly before its start, and ticks are whole seconds,
        # so starting one second past the floor of now finds a tick equal to now as well.
        it = self._iter(datetime.fromtimestamp(math.floor(now) + 1, zone), backwards=True)
        moment: datetime = it.get_prev(datetime)
        while self._skip_repeat(moment):
            moment = it.get_prev(datetime)
        latest = moment.timestamp()
        if latest <= reference:
            return None
        return latest, self._count_between(reference, latest, zone)

    def _count_between(self, reference: float, latest: float, zone: tzinfo) -> int:
        skipped = 0
        it = self._iter(datetime.fromtimestamp(reference, zone))
        while skipped < MAX_COUNTED_SKIPS:
            moment: datetime = it.get_next(datetime)
            if self._skip_repeat(moment):
                continue
            if moment.timestamp() >= latest:
                break
            skipped += 1
        return skipped

    def describe(self) -> str:
        return self.expression


_INTERVAL_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(every: object, option: str = "every") -> IntervalSchedule:
    """``every=`` accepts seconds (int or float), a ``timedelta``, or a string such as
    ``"30s"``, ``"5m"``, ``"2h"``, ``"1d"`` or ``"1h30m"``."""
    seconds: float
    if isinstance(every, bool):  # bool is an int; True seconds is surely a mistake
        raise JobDefinitionError(f"{option}={every!r} is not a duration")
    if isinstance(every, int | float):
        seconds = float(every)
    elif isinstance(every, timedelta):
        seconds = every.total_seconds()
    elif isinstance(every, str):
        text = every.strip().lower().replace(" ", "")
        parts = _INTERVAL_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise JobDefinitionError(
                f"{option}={every!r} is not a duration; write seconds as a number, a "
                'timedelta, or a string like "30s", "5m", "2h", "1d" or "1h30m"'
            )
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    else:
        raise JobDefinitionError(
            f"{option}= takes seconds, a timedelta or a string like '5m', not "
            f"{type(every).__name__}"
        )
    if not math.isfinite(seconds) or seconds <= 0:
        raise JobDefinitionError(f"{option}={every!r} must be a positive duration")
    return IntervalSchedule(seconds)


def resolve_timezone(name: object) -> ZoneInfo:
    """A ``ZoneInfo`` for an IANA name, or a clear error naming the bad zone."""
    if isinstance(name, ZoneInfo):
        return name
    if not isinstance(name, str) or not name:
        raise JobDefinitionError(f"timezone={name!r} must be an IANA name like 'Europe/Berlin'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise JobDefinitionError(
            f"unknown time zone {name!r}; use an IANA name like 'Europe/Berlin' or 'UTC'"
        ) from None


def _format_seconds(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
