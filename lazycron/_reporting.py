"""Reporting: what ``lazycron status`` shows, the one test of "running too long", and
the line each process logs when it starts checking.

The dispatcher logs an overrun and the status table flags it; both ask :func:`overrun`,
so the two can never disagree about what "longer than expected" means.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

from ._log import logger
from .health import max_runtime
from .jobs import Job, Registry
from .runner import Runner
from .state import JobState, Run

__all__ = ["JobStatus", "announce", "overrun", "statuses"]


@dataclass(frozen=True)
class JobStatus:
    """What ``lazycron status`` shows for one job."""

    job: Job
    state: JobState | None
    next_tick: float | None
    running: Run | None
    overrunning: bool


def overrun(job: Job, running: Run | None, now: float) -> float | None:
    """How long ``running`` has run, if that is longer than the job's ``max_runtime``
    (its period unless declared: see :mod:`lazycron.health`, which judges by the same
    function); else ``None``."""
    if running is None:
        return None
    elapsed = now - running.started
    # The period of a cron schedule read in UTC: only DST could tell it from the job's zone.
    return elapsed if elapsed > max_runtime(job, UTC, running.tick) else None


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


def announce(registry: Registry, location: str, check_interval: float) -> None:
    """One INFO line at a process's first check (the site is wired up), and a warning for
    each job that the check interval would make run less often than declared."""
    count = len(registry)
    logger.info("%d %s, state in %s", count, "job" if count == 1 else "jobs", location)
    for job in registry:
        every = getattr(job.schedule, "seconds", None)
        if every is not None and every < check_interval:
            logger.warning(
                "job %r is declared every %gs but check_interval is %gs, so it "
                "runs at most every %gs; lower check_interval (or leave it out: the "
                "default is 1s)",
                job.name,
                every,
                check_interval,
                check_interval,
            )
