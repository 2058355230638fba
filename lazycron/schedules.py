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

import copy
import heapq
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cached_property
from typing import Protocol, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

from ._cron_text import CronText, read_cron_text
from ._wallclock import WallTime, locate, naive_wall, repeat_ahead, repeat_behind
from .errors import JobDefinitionError

__all__ = [
    "TICK_TOLERANCE",
    "CronSchedule",
    "IntervalSchedule",
    "Schedule",
    "next_ticks",
    "parse_interval",
    "resolve_timezone",
    "ticks_from",
]

# How many skipped cron ticks we are willing to count exactly. Past this the count is
# reported as "at least N": a clock that jumped forward by months must not make a check
# walk millions of ticks.
MAX_COUNTED_SKIPS = 1000


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
    """A cron expression read in a time zone, with cron's own meaning.

    Five fields (minute hour day month weekday), six with ``seconds=True`` (seconds as
    the **last** field, croniter's convention), or an alias such as ``@daily``. ``H``
    stands for a value hashed from the job's name (see :mod:`lazycron._cron_text`).

    croniter enumerates the matching *local wall-clock* times, with no zone; each is then
    mapped to real instants the way cronie does around daylight saving time:

    * a time in the spring-forward gap: a *fixed-time* job (neither its minute nor its
      hour field, nor a seconds field, starts with ``*``) runs once at the jump, the
      first instant after the gap; a *wildcard* job skips it;
    * a time in the repeated fall-back hour: a fixed-time job runs in the first copy
      only; a wildcard job runs in both, because both are real, distinct instants.
    """

    text: CronText

    @classmethod
    def parse(
        cls, expression: object, *, job_name: str | None = None, seconds: bool = False
    ) -> CronSchedule:
        """Read ``expression``; ``job_name`` seeds ``H``; ``seconds`` allows six fields."""
        schedule = cls(read_cron_text(expression, job_name=job_name, seconds=seconds))
        # An expression can be well formed and still never match ("0 0 30 2 *").
        try:
            schedule.next_after(datetime(2000, 1, 1).timestamp(), ZoneInfo("UTC"))
        except (CroniterBadDateError, CroniterError, ValueError, OverflowError) as exc:
            raise JobDefinitionError(
                f"cron expression {schedule.text.written!r} never matches a real date ({exc}); "
                "check the day and month fields"
            ) from None
        return schedule

    @property
    def expression(self) -> str:
        return self.text.written

    @property
    def fixed_time(self) -> bool:
        return not self.text.wildcard

    def next_after(self, reference: float, zone: tzinfo, anchor: float = 0.0) -> float:
        for tick in self.ticks_after(reference, zone):
            return tick
        raise CroniterBadDateError("no date in the next 50 years matches it")

    def latest_due(
        self, now: float, reference: float, zone: tzinfo, anchor: float = 0.0
    ) -> tuple[float, int] | None:
        if now <= reference:
            return None
        latest = next(self._ticks_until(now, zone), None)
        if latest is None or latest <= reference:
            return None
        skipped = 0
        for tick in self.ticks_after(reference, zone):
            if tick >= latest or skipped >= MAX_COUNTED_SKIPS:
                break
            skipped += 1
        return latest, skipped

    def ticks_after(self, reference: float, zone: tzinfo) -> Iterator[float]:
        """Every tick strictly after ``reference``, in order, without end."""
        here = naive_wall(reference, zone)
        ticks = self._forwards_from(here - _SECOND, None, reference, zone)
        repeat = repeat_ahead(reference, zone)
        if repeat is None:
            return ticks
        # The clock will step back below ``here``: wall times before it come round
        # again, from the step on. Read them only once the ticks reach the step, so the
        # hour before a fall-back costs no more than any other.
        lowest, step = repeat
        return _joined(
            ticks,
            lambda tick: tick >= step,
            lambda: self._forwards_from(lowest - _SECOND, here - _SECOND, reference, zone),
            descending=False,
        )

    def _ticks_until(self, now: float, zone: tzinfo) -> Iterator[float]:
        """Every tick at or before ``now``, latest first."""
        here = naive_wall(now, zone)
        ticks = self._backwards_from(here + _SECOND, None, now, zone)
        repeat = repeat_behind(now, zone)
        if repeat is None:
            return ticks
        # The clock stepped back below wall times it had shown: those came before the step.
        highest, step = repeat
        return _joined(
            ticks,
            lambda tick: tick <= step,
            lambda: self._backwards_from(highest + _SECOND, here + _SECOND, now, zone),
            descending=True,
        )

    def _forwards_from(
        self, start: datetime, until: datetime | None, reference: float, zone: tzinfo
    ) -> Iterator[float]:
        """The ticks after ``reference`` named by matching wall times in
        ``(start, until]``, in order."""
        pending: list[float] = []  # a heap: one wall time can name two instants
        last = -math.inf
        walls = self._walls(start, backwards=False)
        for wall in walls:
            if until is not None and wall > until:
                break
            where = locate(wall, zone)
            if where.in_gap:  # the gap's later times name the same jump, or nothing
                walls.restart(naive_wall(where.first, zone) - _SECOND)
            for tick in self._instants(where):
                if tick > reference:
                    heapq.heappush(pending, tick)
            # No later wall time names an instant before this one's first: release. When
            # its first is long past (``reference`` is in a repeated hour's second copy),
            # later wall times' first copies are past too, and the second is the bound.
            bound = where.second if where.first < math.floor(reference) else where.first
            while pending and pending[0] <= bound:
                tick = heapq.heappop(pending)
                if tick > last:
                    last = tick
                    yield tick
        while pending:  # the end of the range, or of croniter's horizon
            tick = heapq.heappop(pending)
            if tick > last:
                last = tick
                yield tick

    def _backwards_from(
        self, start: datetime, until: datetime | None, now: float, zone: tzinfo
    ) -> Iterator[float]:
        """The ticks at or before ``now`` named by matching wall times in
        ``[until, start)``, latest first."""
        pending: list[float] = []  # a heap of negated ticks
        last = math.inf
        walls = self._walls(start, backwards=True)
        for wall in walls:
            if until is not None and wall < until:
                break
            where = locate(wall, zone)
            if where.in_gap:  # the gap's earlier times name the same jump, or nothing
                walls.restart(naive_wall(where.first - 1, zone) + _SECOND)
            for tick in self._instants(where):
                if tick <= now:
                    heapq.heappush(pending, -tick)
            # No earlier wall time names an instant after this one's last: release. When
            # its last is still to come (``now`` is in a repeated hour's first copy),
            # earlier wall times' second copies are to come too, and the first is the bound.
            bound = where.first if where.second > now else where.second
            while pending and -pending[0] >= bound:
                tick = -heapq.heappop(pending)
                if tick < last:
                    last = tick
                    yield tick
        while pending:
            tick = -heapq.heappop(pending)
            if tick < last:
                last = tick
                yield tick

    def _instants(self, where: WallTime) -> tuple[float, ...]:
        if where.in_gap:  # cronie: fixed-time jobs run at the jump, wildcard jobs skip
            return () if self.text.wildcard else (where.first,)
        if where.first == where.second or not self.text.wildcard:
            return (where.first,)  # cronie: a fixed-time job runs in the first copy only
        return (where.first, where.second)

    def _walls(self, start: datetime, *, backwards: bool) -> _Walls:
        """Matching wall-clock times strictly after (or before) ``start``, no zone."""
        # A copy of a parsed iterator: parsing the expression costs more than a step.
        it = copy.copy(self._backwards if backwards else self._forwards)
        it.set_current(start, force=True)
        return _Walls(it, backwards=backwards)

    @cached_property
    def _forwards(self) -> croniter:
        return self._parsed(backwards=False)

    @cached_property
    def _backwards(self) -> croniter:
        return self._parsed(backwards=True)

    def _parsed(self, *, backwards: bool) -> croniter:
        try:
            return croniter(
                self.text.resolved, datetime(2000, 1, 1), is_prev=backwards, day_or=self.text.day_or
            )
        except CroniterBadCronError as exc:  # pragma: no cover - validated in parse()
            raise JobDefinitionError(str(exc)) from None

    def describe(self) -> str:
        return self.text.describe()


_SECOND = timedelta(seconds=1)


class _Walls:
    """croniter's matching wall times, one way, from a point that can be moved on."""

    def __init__(self, it: croniter, *, backwards: bool) -> None:
        self._it = it
        self._step = it.get_prev if backwards else it.get_next

    def __iter__(self) -> _Walls:
        return self

    def __next__(self) -> datetime:
        try:
            wall: datetime = self._step(datetime)
        except CroniterBadDateError:  # no match within croniter's horizon of years
            raise StopIteration from None
        return wall

    def restart(self, start: datetime) -> None:
        """Go on strictly after (or before) ``start``."""
        self._it.set_current(start, force=True)


def _joined(
    ticks: Iterator[float],
    reached: Callable[[float], bool],
    more: Callable[[], Iterator[float]],
    *,
    descending: bool,
) -> Iterator[float]:
    """``ticks`` until one has ``reached`` a clock step, then merged with ``more()``
    (ticks from wall times the step repeats); each tick once."""
    for tick in ticks:
        if reached(tick):
            last = None
            for merged in heapq.merge([tick], ticks, more(), reverse=descending):
                if merged != last:
                    last = merged
                    yield merged
            return
        yield tick
    yield from more()


@overload
def next_ticks(
    cron: str,
    /,
    *,
    after: datetime,
    count: int,
    timezone: str | tzinfo = "UTC",
    seconds: bool = False,
    name: str | None = None,
) -> list[datetime]: ...


@overload
def next_ticks(
    *, every: float | timedelta | str, anchor: datetime, after: datetime, count: int
) -> list[datetime]: ...


def next_ticks(
    cron: str | None = None,
    /,
    *,
    after: datetime,
    count: int,
    timezone: str | tzinfo = "UTC",
    seconds: bool = False,
    name: str | None = None,
    every: float | timedelta | str | None = None,
    anchor: datetime | None = None,
) -> list[datetime]:
    """The next ``count`` ticks strictly after ``after``, as aware UTC datetimes.

    They are computed by the very code the scheduler runs, so you can check a schedule
    across a daylight saving night before you deploy it::

        next_ticks("30 2 * * *", timezone="Europe/Berlin",
                   after=datetime(2026, 3, 28, tzinfo=UTC), count=3)

    A cron expression takes the same options as ``@lazycron.job``: ``timezone``,
    ``seconds=True`` for a sixth (seconds, last) field, and ``name`` (the job's name)
    for an expression with ``H``. An interval (``every=``) needs its ``anchor``: the
    moment the job was first seen, where its grid starts (the anchor is not a tick).
    """
    start = _timestamp("after", after)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count={count!r} must be a whole number, 0 or more")
    if (cron is None) == (every is None):
        raise JobDefinitionError("give exactly one schedule: a cron expression or every=")
    schedule: Schedule
    if cron is not None:
        if anchor is not None:
            raise JobDefinitionError("anchor= only applies to every=; a cron grid has none")
        schedule = CronSchedule.parse(cron, job_name=name, seconds=seconds)
        return _as_datetimes(ticks_from(schedule, resolve_timezone(timezone), start, 0.0, count))
    if anchor is None:
        raise JobDefinitionError(
            "every= needs anchor=, the moment the job was first seen: an interval's grid "
            "starts there (lazycron status shows it for a deployed job)"
        )
    grid_start = _timestamp("anchor", anchor)
    schedule = parse_interval(every)
    ticks = ticks_from(schedule, UTC, max(start, grid_start), grid_start, count)
    return _as_datetimes(ticks)


def ticks_from(
    schedule: Schedule, zone: tzinfo, reference: float, anchor: float, count: int
) -> list[float]:
    """``count`` ticks after ``reference``, each found from the one before, as the
    scheduler finds them (its reference is the last tick it claimed)."""
    ticks: list[float] = []
    for _ in range(count):
        reference = schedule.next_after(reference, zone, anchor)
        ticks.append(reference)
    return ticks


def _timestamp(option: str, moment: object) -> float:
    if not isinstance(moment, datetime):
        raise TypeError(f"{option}= takes a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{option}={moment!r} has no time zone; pass an aware datetime such as "
            "datetime(2026, 3, 29, tzinfo=ZoneInfo('Europe/Berlin')) or tzinfo=UTC"
        )
    return moment.timestamp()


def _as_datetimes(ticks: list[float]) -> list[datetime]:
    return [datetime.fromtimestamp(tick, UTC) for tick in ticks]


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
