"""Health a monitor can read: ``lazycron status --check`` and the health URL.

Each job gets a verdict with the monitoring-plugin convention (Nagios, Icinga, Sensu):

* ``OK`` (0);
* ``WARNING`` (1): its last run failed or was interrupted, it is running past its
  ``max_runtime``, or a tick is unrun more than ``grace`` after it fell due;
* ``CRITICAL`` (2): two or more ticks are unrun past their grace (the job has missed more
  than one tick), or its state cannot be read or the store cannot be used;
* ``UNKNOWN`` (3): no process has seen the job yet, so nothing can be said.

The site's verdict is the worst job's, CRITICAL before WARNING before UNKNOWN before OK.
A paused job is OK: it is not expected to run.

Defaults derived from the schedule, where a job does not set them: ``max_runtime`` is the
period (the time between two ticks; a run longer than that is still going when the next
tick falls due), and ``grace`` is half the period, at least a minute (a lazy site runs a
tick at the first request after it) and at most an hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from .backends.base import StateUnreadableError
from .jobs import Job
from .schedules import IntervalSchedule
from .state import JobState

if TYPE_CHECKING:
    from .scheduler import Scheduler

__all__ = [
    "CRITICAL",
    "OK",
    "UNKNOWN",
    "WARNING",
    "Health",
    "JobHealth",
    "check",
    "grace",
    "max_runtime",
    "period",
]

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
_SEVERITY = {OK: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3}
MIN_GRACE = 60.0
MAX_GRACE = 3600.0


def period(job: Job, zone: tzinfo, around: float) -> float:
    """Seconds between two ticks of ``job`` after ``around``."""
    if isinstance(job.schedule, IntervalSchedule):
        return job.schedule.seconds
    first = job.schedule.next_after(around, zone, 0.0)
    return job.schedule.next_after(first, zone, 0.0) - first


def max_runtime(job: Job, zone: tzinfo, around: float) -> float:
    return job.max_runtime if job.max_runtime is not None else period(job, zone, around)


def grace(job: Job, zone: tzinfo, around: float) -> float:
    if job.grace is not None:
        return job.grace
    return min(max(period(job, zone, around) / 2, MIN_GRACE), MAX_GRACE)


@dataclass
class JobHealth:
    name: str
    code: int
    reasons: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def worse(self, code: int, reason: str) -> None:
        if _SEVERITY[code] > _SEVERITY[self.code]:
            self.code = code
        self.reasons.append(reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": NAMES[self.code],
            "reasons": self.reasons,
            **self.detail,
        }


@dataclass
class Health:
    code: int
    jobs: list[JobHealth]
    location: str

    @property
    def status(self) -> str:
        return NAMES[self.code]

    def summary(self) -> str:
        bad = [j for j in self.jobs if j.code != OK]
        if not bad:
            return f"LAZYCRON OK - {len(self.jobs)} jobs"
        said = "; ".join(f"{j.name}: {', '.join(j.reasons)}" for j in bad)
        return f"LAZYCRON {self.status} - {said}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "code": self.code,
            "summary": self.summary(),
            "state": self.location,
            "jobs": [job.as_dict() for job in self.jobs],
        }


def check(scheduler: Scheduler) -> Health:
    """Read every job's state and judge it. Never raises for a store failure: that is
    the CRITICAL verdict."""
    now = scheduler.clock.time()
    jobs = [_judge(scheduler, job, now) for job in scheduler.registry]
    worst = max((j.code for j in jobs), key=_SEVERITY.__getitem__, default=UNKNOWN)
    return Health(worst, jobs, scheduler.backend.location)


def _judge(scheduler: Scheduler, job: Job, now: float) -> JobHealth:
    health = JobHealth(job.name, OK)
    zone = scheduler.runner.zone(job)
    try:
        snapshot = scheduler.backend.read(job.name)
    except StateUnreadableError as exc:
        health.worse(CRITICAL, f"state unreadable ({exc})")
        return health
    except OSError as exc:
        health.worse(CRITICAL, f"state unusable ({exc})")
        return health
    if snapshot is None:
        health.worse(UNKNOWN, "not seen yet: no process has checked since it was declared")
        return health
    state = snapshot.state
    limit, allowed = max_runtime(job, zone, state.reference), grace(job, zone, state.reference)
    next_tick = scheduler.runner.next_due(job, state)
    last = state.last_run
    health.detail = {
        "next_tick": _iso(next_tick),
        "max_runtime": limit,
        "grace": allowed,
        "paused": None
        if state.paused is None
        else {"since": _iso(state.paused.since), "by": state.paused.by},
        "running": None
        if state.current is None or not snapshot.lease_live
        else {
            "since": _iso(state.current.started),
            "host": state.current.host,
            "pid": state.current.pid,
        },
        "last_run": None
        if last is None
        else {
            "outcome": last.outcome,
            "trigger": last.trigger,
            "tick": _iso(last.tick),
            "ended": _iso(last.ended),
            "duration": last.duration,
            "error": last.error,
        },
    }
    if state.paused is not None:
        health.reasons.append(f"paused since {_iso(state.paused.since)} by {state.paused.by}")
        return health
    _judge_run(health, state, snapshot.lease_live, limit, now)
    if not (state.current is not None and snapshot.lease_live):
        _judge_lateness(health, job, state, zone, allowed=allowed, now=now)
    return health


def _judge_run(
    health: JobHealth, state: JobState, lease_live: bool, limit: float, now: float
) -> None:
    running = state.current if lease_live else None
    if running is not None and now - running.started > limit:
        health.worse(
            WARNING,
            f"running for {now - running.started:.0f}s on {running.host} (pid {running.pid}), "
            f"past max_runtime {limit:g}s",
        )
    last = next((run for run in reversed(state.history) if run.outcome != "skipped"), None)
    if last is not None and last.outcome in {"failed", "interrupted"}:
        error = f": {last.error}" if last.error else ""
        health.worse(WARNING, f"last run {last.outcome} at {_iso(last.started)}{error}")


def _judge_lateness(
    health: JobHealth, job: Job, state: JobState, zone: tzinfo, *, allowed: float, now: float
) -> None:
    due = job.schedule.latest_due(now - allowed, state.reference, zone, state.anchor)
    if due is None:
        return
    tick, earlier = due
    missed = earlier + 1
    first = job.schedule.next_after(state.reference, zone, state.anchor)
    if missed >= 2:
        health.worse(
            CRITICAL,
            f"missed {missed} ticks (the first due {_iso(first)}), more than {allowed:g}s "
            f"grace each",
        )
    else:
        health.worse(
            WARNING, f"late: tick {_iso(tick)} unrun {now - tick:.0f}s, grace {allowed:g}s"
        )


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
