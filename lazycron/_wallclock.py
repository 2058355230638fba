"""Local wall-clock times and the real instants they name, around daylight saving time.

A cron expression matches *wall-clock* times. Most name exactly one instant; a time in
the spring-forward gap names none, and a time in the repeated fall-back hour names two.
What a cron job does with those is cronie's rule, applied by :class:`CronSchedule`; this
module only finds the instants.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple

__all__ = ["WallTime", "locate", "naive_wall", "repeat_ahead", "repeat_behind"]

# Offsets are sampled this often to find the changes of offset near a moment. Changes are
# months apart, never two within hours; two days cover the effect of any change, however
# large (the largest in tzdata is about a day).
_SAMPLE_EVERY = 3 * 3600
_HORIZON = 2 * 86400
_EPOCH = datetime(1970, 1, 1)


class WallTime(NamedTuple):
    """The instants a wall-clock time names, as UTC timestamps.

    ``first == second``: an ordinary time. ``first < second``: a repeated time (the
    first and second copy). ``in_gap``: the time was skipped; both fields are then the
    jump, the first real instant after the gap.
    """

    first: float
    second: float
    in_gap: bool


def locate(wall: datetime, zone: tzinfo) -> WallTime:
    # PEP 495: in a repeated hour fold=0 is the first copy; in a gap, fold=0 reads the
    # time with the offset from before the jump, which lands *after* it, and fold=1 before.
    first = wall.replace(tzinfo=zone, fold=0).timestamp()
    second = wall.replace(tzinfo=zone, fold=1).timestamp()
    if first <= second:
        return WallTime(first, second, in_gap=False)
    jump = _jump_between(zone, second, first)
    return WallTime(jump, jump, in_gap=True)


@lru_cache(maxsize=256)
def _jump_between(zone: tzinfo, before: float, after: float) -> float:
    """The first whole second in ``(before, after]`` with the offset in force at ``after``
    (offsets change on whole seconds)."""
    target = _offset(after, zone)
    low, high = math.floor(before), math.ceil(after)  # offset(low) != target == offset(high)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(middle, zone) == target:
            high = middle
        else:
            low = middle
    return float(high)


def naive_wall(moment: float, zone: tzinfo) -> datetime:
    """The wall-clock time at ``moment``, whole seconds, without a zone."""
    return datetime.fromtimestamp(math.floor(moment), zone).replace(tzinfo=None)


def repeat_ahead(moment: float, zone: tzinfo) -> tuple[datetime, float] | None:
    """When, in the two days after ``moment``, the wall clock steps back below its time
    at ``moment``: the lowest wall time it steps back to, and the first such step."""
    here = math.floor(moment) + _offset(moment, zone)
    steps = [
        (change + after, change)
        for change, _, after in _changes(moment, moment + _HORIZON, zone)
        if change + after < here
    ]
    if not steps:
        return None
    return _naive(min(wall for wall, _ in steps)), min(change for _, change in steps)


def repeat_behind(moment: float, zone: tzinfo) -> tuple[datetime, float] | None:
    """When, in the two days before ``moment``, the wall clock had shown times later
    than its time at ``moment``, then stepped back: the highest of those wall times,
    and the last such step."""
    here = math.floor(moment) + _offset(moment, zone)
    steps = [
        (change + before, change)
        for change, before, _ in _changes(moment - _HORIZON, moment, zone)
        if change + before > here
    ]
    if not steps:
        return None
    return _naive(max(wall for wall, _ in steps)), max(change for _, change in steps)


def _naive(local_seconds: float) -> datetime:
    return _EPOCH + timedelta(seconds=local_seconds)


def _changes(start: float, end: float, zone: tzinfo) -> Iterator[tuple[float, float, float]]:
    """Each change of offset in ``(start, end]``: its instant, the offset before, after."""
    previous, previous_offset = start, _offset(start, zone)
    for moment in (*_samples(start, end), end):
        offset = _offset(moment, zone)
        if offset != previous_offset:
            change = _jump_between(zone, previous, moment)
            yield change, previous_offset, offset
        previous, previous_offset = moment, offset


def _samples(start: float, end: float) -> Iterator[float]:
    moment = start + _SAMPLE_EVERY
    while moment < end:
        yield moment
        moment += _SAMPLE_EVERY


def _offset(moment: float, zone: tzinfo) -> float:
    offset = datetime.fromtimestamp(moment, zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0
