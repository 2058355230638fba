"""Helpers for testing code that uses lazycron: a clock that moves only when told.

from lazycron.testing import FakeClock

clock = FakeClock()
scheduler = lazycron.Scheduler(registry, state_dir=tmp_path, clock=clock, check_interval=0)
scheduler.check(); scheduler.wait_idle()      # first sight
clock.advance(3600)
scheduler.check(); scheduler.wait_idle()      # an hourly job has now run once
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["FakeClock"]


class FakeClock:
    """Wall and monotonic time that move only when a test says so (see :class:`Clock`)."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)) -> None:
        self.now = start.timestamp()
        self.mono = 1000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        """Time passes: both clocks move."""
        self.now += seconds
        self.mono += seconds

    def jump_wall(self, seconds: float) -> None:
        """The wall clock steps (NTP, a resumed VM); monotonic time does not."""
        self.now += seconds

    def set(self, moment: datetime) -> None:
        """Time passes until ``moment``."""
        self.advance(moment.timestamp() - self.now)
