"""Time, injectable. Production uses the system clocks; tests pass a fake one.

Two clocks, on purpose: ticks are wall-clock instants (UTC timestamps), but the
in-process throttle uses the monotonic clock so that a wall-clock jump can neither stop
checks nor make them run in a storm.
"""

from __future__ import annotations

import time as _time
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock time as a UTC POSIX timestamp."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...


class SystemClock:
    time = staticmethod(_time.time)
    monotonic = staticmethod(_time.monotonic)
