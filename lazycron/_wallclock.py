"""Local wall-clock times and the real instants they name, around daylight saving time.

A cron expression matches *wall-clock* times. Most name exactly one instant; a time in
the spring-forward gap names none, and a time in the repeated fall-back hour names two.
What a cron job does with those is cronie's rule, applied by :class:`CronSchedule`; this
module only finds the instants.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple

__all__ = ["WallTime", "locate", "naive_wall", "wall_shift_ahead", "wall_shift_behind"]

# Offsets are sampled this often to find how far the wall clock may move back (or had
# moved forward) near a moment. Transitions are months apart; two days of samples cover
# any offset change, however large (the largest in tzdata is about a day).
_SAMPLE_EVERY = 3 * 3600
_SAMPLES = range(_SAMPLE_EVERY, 2 * 86400 + 1, _SAMPLE_EVERY)


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
    """The first whole second in ``(before, after]`` with the offset in force at ``after``."""
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


def wall_shift_ahead(moment: float, zone: tzinfo) -> timedelta:
    """How far the wall clock may step *back* in the two days after ``moment``."""
    now = _offset(moment, zone)
    return timedelta(seconds=max(0.0, *(now - _offset(moment + s, zone) for s in _SAMPLES)))


def wall_shift_behind(moment: float, zone: tzinfo) -> timedelta:
    """How far the wall clock had stepped *back* in the two days before ``moment``."""
    now = _offset(moment, zone)
    return timedelta(seconds=max(0.0, *(_offset(moment - s, zone) - now for s in _SAMPLES)))


def _offset(moment: float, zone: tzinfo) -> float:
    offset = datetime.fromtimestamp(moment, zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0
