"""The plan: when each job of this process is next worth looking at, and when to wake.

No threads and no I/O: every method takes the times it needs, so the arithmetic is tested
with a fake clock alone. The plan is shared by the request thread (``check``), the
dispatcher and the job threads, so it guards itself with one mutex.

A job is in one of two places: on the heap (planned for a wall-clock time), or *out*
(handed to a job thread, which puts it back when its attempt is over). Jobs declared
after the plan was made are planned for "now", so their state gets read; jobs removed
from the registry are forgotten.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections.abc import Callable

from .jobs import Registry
from .schedules import TICK_TOLERANCE

__all__ = ["MAX_SLEEP", "Plan"]

# However far away the next tick, look again at least this often, so that a wall clock
# that jumps forward (a VM resumed, NTP stepping) is noticed within minutes. Looking is
# an in-memory comparison; nothing is read from disk unless a job is due.
MAX_SLEEP = 300.0


class Plan:
    """The due heap of one process, and the ``wake_at`` it implies.

    :param registry: the jobs to plan.
    :param check_interval: the throttle: ``wake_at`` is never sooner than this many
        seconds after the last check.
    :param publish: called with each new ``wake_at`` while the plan's mutex is held, so
        that the order of the values published is the order of the plans they come from
        (the fast path reads the published value without taking any lock).
    """

    def __init__(
        self, registry: Registry, check_interval: float, publish: Callable[[float], None]
    ) -> None:
        self.registry = registry
        self.check_interval = check_interval
        self._publish = publish
        self._mutex = threading.Lock()
        self._heap: list[tuple[float, int, str]] = []
        self._planned: dict[str, int] = {}  # job name -> sequence of its live heap entry
        self._out: set[str] = set()  # handed to a job thread
        self._sequence = itertools.count()
        self._registry_version = -1
        self._last_check = -math.inf
        publish(-math.inf)  # the first request of a process looks at the state

    def __len__(self) -> int:
        """Heap entries, stale ones included (a bound for leak tests)."""
        return len(self._heap)

    # -- planning ---------------------------------------------------------------------------

    def put(self, name: str, due: float) -> None:
        """Plan a job for the wall-clock time ``due``."""
        with self._mutex:
            self._put(name, due)

    def hand_out(self, name: str) -> None:
        """The job goes to a thread of its own: no other attempt of it starts meanwhile."""
        with self._mutex:
            self._out.add(name)

    def take_back(self, name: str, due: float) -> None:
        """The job's thread is done: plan it for ``due`` if it is still declared."""
        with self._mutex:
            self._out.discard(name)
            if name in self.registry:
                self._put(name, due)

    def forget(self) -> None:
        """Drop what this process planned: the next look covers every declared job."""
        with self._mutex:
            self._registry_version = -1
            self._planned.clear()
            self._heap.clear()

    def has_ready(self, now: float) -> bool:
        """Whether any job's planned time has come (at wall-clock ``now``)."""
        with self._mutex:
            self._sync_registry()
            return bool(self._heap) and self._heap[0][0] <= now + TICK_TOLERANCE

    def pop_ready(self, now: float) -> list[str]:
        """Take off the heap the jobs whose planned time has come."""
        ready: list[str] = []
        with self._mutex:
            self._sync_registry()
            while self._heap and self._heap[0][0] <= now + TICK_TOLERANCE:
                _, sequence, name = heapq.heappop(self._heap)
                if self._planned.get(name) == sequence and name not in self._out:
                    del self._planned[name]
                    ready.append(name)
        return ready

    def planned(self) -> dict[str, float]:
        """Each planned job's wall-clock time (jobs on a thread of their own are absent)."""
        with self._mutex:
            return {
                name: due
                for due, sequence, name in self._heap
                if self._planned.get(name) == sequence
            }

    # -- waking -----------------------------------------------------------------------------

    def checked(self, monotonic: float) -> None:
        """A check starts at ``monotonic``: nothing more until the throttle has passed."""
        with self._mutex:
            self._last_check = monotonic
            self._publish(monotonic + self.check_interval)

    def rearm(self, now: float, monotonic: float) -> float:
        """Publish (and return) ``wake_at`` from the earliest planned tick, never sooner
        than the throttle allows and never later than :data:`MAX_SLEEP`.

        The heap is read and the result published under one mutex: a thread that read an
        older heap can never overwrite the wake-up of a job planned since.
        """
        with self._mutex:
            earliest = self._heap[0][0] if self._heap else math.inf
            wake_at = self.next_wake(earliest, now, monotonic)
            self._publish(wake_at)
        return wake_at

    def next_wake(self, earliest: float, now: float, monotonic: float) -> float:
        """The monotonic time to look again, for a first tick at wall-clock ``earliest``."""
        delay = min(max(earliest - now - TICK_TOLERANCE, 0.0), MAX_SLEEP)
        return max(monotonic + delay, self._last_check + self.check_interval)

    # -- under the mutex ----------------------------------------------------------------------

    def _put(self, name: str, due: float) -> None:
        sequence = next(self._sequence)
        self._planned[name] = sequence
        heapq.heappush(self._heap, (due, sequence, name))

    def _sync_registry(self) -> None:
        if self._registry_version == self.registry.version:
            return
        self._registry_version = self.registry.version
        names = {job.name for job in self.registry}
        for name in names - self._planned.keys() - self._out:
            self._put(name, -math.inf)
        for name in self._planned.keys() - names:
            del self._planned[name]
