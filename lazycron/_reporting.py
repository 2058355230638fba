"""Reporting: what ``lazycron status`` shows, and the one test of "running too long".

The dispatcher logs an overrun and the status table flags it; both ask :func:`overrun`,
so the two can never disagree about what "longer than expected" means.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .jobs import Job, Registry
from .runner import Runner
from .state import JobState, Run

__all__ = ["JobStatus", "overrun", "statuses"]


@dataclass(frozen=True)
class JobStatus:
    """What ``lazycron status`` shows for one job."""

    job: Job
    state: JobState | None
    next_tick: float | None
    running: Run | None
    overrunning: bool


def overrun(job: Job, running: Run | None, now: float) -> float | None:
    """How long ``running`` has run, if that is longer than the job's
    ``expected_duration``; else ``None``."""
    if running is None or job.expected_duration is None:
        return None
    elapsed = now - running.started
    return elapsed if elapsed > job.expected_duration else None


def statuses(
    registry: Registry, runner: Runner, now: float, names: Iterable[str] | None = None
) -> list[JobStatus]:
    """One :class:`JobStatus` per job named (every declared job by default)."""
    jobs = [registry.get(name) for name in names] if names else list(registry)
    result = []
    for job in jobs:
        state = runner.read(job)
        running = state.current if state else None
        next_tick = runner.next_due(job, state) if state else None
        overrunning = overrun(job, running, now) is not None
        result.append(JobStatus(job, state, next_tick, running, overrunning))
    return result
