"""``lazycron why NAME``: why a job did not run at its last due tick, from recorded facts.

Only what the store records is used: the job's state (its claimed ticks, skipped runs and
their reasons, the run in progress and its lease, a pause, when its schedule was adopted)
and the site's last-check mark (:class:`~lazycron.backends.base.CheckMark`). The reasons,
in the order they are looked for:

* ``backend_unusable``: the store cannot be read (the error says why);
* ``not_seen``: no process has recorded the job at all;
* ``running``: a run holds the job's lease (host, pid, since);
* ``paused``: paused since T, by whom;
* ``no_check``: a tick is due and unclaimed, and no process has checked since it fell due
  (the last check was at T: no request reached any process since);
* ``max_lateness``: the last due tick was found too late and skipped;
* ``schedule_changed``: the schedule changed at T, and its first tick is still ahead;
* ``first_sight``: the job was first seen at T and waits for its first tick;
* ``ran``: it did run at its last due tick (the outcome says how it went).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .backends.base import CheckRecorder, StateUnreadableError
from .jobs import Job
from .state import JobState, Run

if TYPE_CHECKING:
    from .scheduler import Scheduler

__all__ = ["Why", "explain"]


@dataclass(frozen=True)
class Why:
    reason: str
    text: str
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "text": self.text, **self.facts}


def explain(scheduler: Scheduler, job: Job) -> Why:
    now = scheduler.clock.time()
    zone = scheduler.runner.zone(job)
    try:
        snapshot = scheduler.backend.read(job.name)
        mark = (
            scheduler.backend.last_check() if isinstance(scheduler.backend, CheckRecorder) else None
        )
    except StateUnreadableError as exc:
        return Why("backend_unusable", f"its state cannot be read: {exc}", {"error": str(exc)})
    except OSError as exc:
        return Why(
            "backend_unusable",
            f"the backend {scheduler.backend.location} is unusable: {exc}",
            {"error": str(exc)},
        )
    if snapshot is None:
        return Why(
            "not_seen",
            "no process has seen it yet: no request has reached a process running this "
            "code since it was declared",
        )
    state = snapshot.state
    if state.current is not None and snapshot.lease_live:
        run = state.current
        return Why(
            "running",
            f"it is running elsewhere: on {run.host}, pid {run.pid}, since {_iso(run.started)} "
            f"(tick {_iso(run.tick)}); a job never overlaps itself",
            {"host": run.host, "pid": run.pid, "since": _iso(run.started)},
        )
    if state.paused is not None:
        return Why(
            "paused",
            f"it is paused since {_iso(state.paused.since)} by {state.paused.by}; "
            f"`lazycron resume {job.name}` resumes it",
            {"since": _iso(state.paused.since), "by": state.paused.by},
        )
    pending = job.schedule.latest_due(now, state.reference, zone, state.anchor)
    if pending is not None:
        return _unclaimed(pending[0], mark.at if mark else None, mark.host if mark else None)
    last = _run_for(state, state.last_tick)
    if last is not None and last.outcome == "skipped" and last.reason == "max_lateness":
        return Why(
            "max_lateness",
            f"its tick {_iso(last.tick)} was skipped by max_lateness="
            f"{job.max_lateness:g}s: it was found {last.started - last.tick:.0f}s late, at "
            f"{_iso(last.started)}",
            {"tick": _iso(last.tick), "found": _iso(last.started)},
        )
    next_tick = scheduler.runner.next_due(job, state)
    if state.since is not None and state.since > state.first_seen and _none_since(state):
        now_is = state.schedule_key or state.schedule
        return Why(
            "schedule_changed",
            f"its schedule changed at {_iso(state.since)} (to {now_is}); its first tick "
            f"under it is {_iso(next_tick)}",
            {"since": _iso(state.since), "next_tick": _iso(next_tick)},
        )
    if state.last_tick is None:
        return Why(
            "first_sight",
            f"first seen at {_iso(state.first_seen)}; it never runs on first sight and waits "
            f"for its first tick, {_iso(next_tick)}",
            {"first_seen": _iso(state.first_seen), "next_tick": _iso(next_tick)},
        )
    if last is None:
        return Why("ran", f"its last tick {_iso(state.last_tick)} was claimed", {})
    verb = {"ok": "ran", "failed": "ran and failed", "interrupted": "was interrupted"}
    error = f": {last.error}" if last.error else ""
    return Why(
        "ran",
        f"it {verb.get(last.outcome, last.outcome)} for its last due tick {_iso(last.tick)}, "
        f"at {_iso(last.started)}{error}; next tick {_iso(next_tick)}",
        {"outcome": last.outcome, "tick": _iso(last.tick), "next_tick": _iso(next_tick)},
    )


def _unclaimed(tick: float, checked: float | None, host: str | None) -> Why:
    if checked is None or checked < tick:
        since = f"since {_iso(checked)} (by {host})" if checked is not None else "ever recorded"
        return Why(
            "no_check",
            f"its tick {_iso(tick)} is due, and no check has happened {since}: no request "
            f"has reached any process since then. Send traffic, or use the trigger URL",
            {"tick": _iso(tick), "last_check": _iso(checked)},
        )
    return Why(
        "due",
        f"its tick {_iso(tick)} is due and a process checked at {_iso(checked)} without "
        f"running it; the site's log says why (a busy or failing store)",
        {"tick": _iso(tick), "last_check": _iso(checked)},
    )


def _run_for(state: JobState, tick: float | None) -> Run | None:
    if tick is None:
        return None
    return next((r for r in reversed(state.history) if r.tick == tick), None)


def _none_since(state: JobState) -> bool:
    """No tick claimed under the current schedule."""
    return state.last_tick is None or (state.since is not None and state.last_tick < state.since)


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
