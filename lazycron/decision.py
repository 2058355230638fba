"""What to do about one job, decided from its stored state alone: a pure function.

:func:`decide` takes the job, the state read from the store (or ``None``), whether the
store says a live lease is held, the time and the zone, and returns a :class:`Decision`:

* ``BUSY``: a live holder has the job; touch nothing;
* ``WAIT``: nothing to run and nothing to write; look again at ``next_due``;
* ``WRITE``: write ``state`` (conditionally) and look again at ``next_due``: first sight,
  a schedule change, a clock reset, a max-lateness skip, an interrupted run settled;
* ``CLAIM``: claim ``state`` (its ``current`` is the run) and run it.

No I/O, no clock, no randomness: the caller passes the run id a claim would use, and logs
``notes`` only once the write or claim has succeeded. The runner is the thin shell that
reads, commits the decision through the backend, runs the job and records its outcome;
the property tests drive this function directly.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import Enum

from .jobs import Job
from .schedules import MAX_COUNTED_SKIPS, TICK_TOLERANCE, CronSchedule, IntervalSchedule
from .state import JobState, Pause, Run, Trigger

__all__ = [
    "CLOCK_AHEAD_LIMIT",
    "Action",
    "Decision",
    "Note",
    "Owner",
    "decide",
    "next_due",
    "paused",
    "resumed",
    "schedule_key",
    "wants_attempt",
]

# A claimed tick further ahead of now than this was claimed under a wrong clock (a VM
# resumed with a bad time, NTP stepping back). Cron (Vixie, cronie) treats a jump of more
# than 3 hours as the clock being set, not as time passing, and restarts from now; so do
# we, rather than wait until that date. DST never moves a tick by more than 2 hours.
CLOCK_AHEAD_LIMIT = 3 * 3600.0

INTERRUPTED_ERROR = "the process running this job died or was stopped before it finished"
# A job that enqueues a task: the tick was claimed, and the process died before its
# enqueue() was on record (the task may or may not be in the queue: at most once).
NOT_ENQUEUED_ERROR = (
    "claimed, not enqueued: the process died or was stopped between claiming the tick and "
    "recording its task's enqueue"
)


class Action(Enum):
    BUSY = "busy"
    WAIT = "wait"
    WRITE = "write"
    CLAIM = "claim"


@dataclass(frozen=True)
class Note:
    """A log line to emit once the decision is committed (``msg % args``)."""

    level: int
    msg: str
    args: tuple[object, ...] = ()


@dataclass(frozen=True)
class Owner:
    """Who would own a claimed run: this host, process and its start time, and the run id
    (the lease's token) a claim would use."""

    run_id: str
    host: str
    pid: int
    proc_start: int | None


@dataclass(frozen=True)
class Decision:
    action: Action
    state: JobState | None = None  # what to write or claim; a new object, never the input
    next_due: float | None = None  # WAIT, WRITE: when the job is next due under ``state``
    notes: tuple[Note, ...] = field(default=())

    @property
    def run(self) -> Run | None:
        """For ``CLAIM``: the run being claimed."""
        return self.state.current if self.state is not None else None


def schedule_key(job: Job, zone: tzinfo) -> str:
    """The schedule ticks are claimed under, as stored: a cron expression with the zone it
    is read in, or an interval (whose ticks no zone changes)."""
    if isinstance(job.schedule, CronSchedule):
        return f"{job.schedule.describe()} in {zone}"
    described = job.schedule.describe()
    if isinstance(job.schedule, IntervalSchedule):
        seconds = job.schedule.seconds
        if seconds % 60 and float(f"{seconds:g}") != seconds:
            # the description rounds to 6 digits: 123456.7 and 123457 s must still differ
            return f"every {seconds!r}s"
    return described


def next_due(job: Job, state: JobState, zone: tzinfo) -> float:
    return job.schedule.next_after(state.reference, zone, state.anchor)


def _schedule_changed(job: Job, state: JobState, zone: tzinfo) -> bool:
    if state.schedule_key is None:
        # Written before keys were kept: the description is all we have. The same one is
        # adopted silently (the zone cannot be told, and assuming a change would skip ticks).
        return state.schedule != job.schedule.describe()
    return state.schedule_key != schedule_key(job, zone)


def _clock_was_ahead(state: JobState, now: float) -> bool:
    return state.reference > now + CLOCK_AHEAD_LIMIT


def wants_attempt(job: Job, state: JobState | None, now: float, zone: tzinfo) -> float | None:
    """``None`` when the job needs an attempt now (new, due, a run in progress to look
    at, a schedule change or a clock reset to write); else the time of its next tick."""
    if state is None or state.current is not None:
        return None
    if _schedule_changed(job, state, zone) or _clock_was_ahead(state, now):
        return None
    due = next_due(job, state, zone)
    return None if due <= now + TICK_TOLERANCE else due


def decide(
    job: Job,
    stored: JobState | None,
    *,
    lease_live: bool,
    now: float,
    zone: tzinfo,
    owner: Owner,
    trigger: Trigger = "schedule",
    history_limit: int = 50,
) -> Decision:
    """Decide what to do about ``job``; see the module docstring. ``stored`` is not mutated.

    ``trigger="manual"`` claims a run now, due or not, without consuming a tick.
    """
    if lease_live:
        return Decision(Action.BUSY)
    key = schedule_key(job, zone)
    notes: list[Note] = []
    if stored is None:
        # First sight: remember when, so a cron job waits for its next tick and an
        # interval job waits one full interval. Never fire on the first request.
        state = JobState(
            first_seen=now, schedule=job.schedule.describe(), schedule_key=key, since=now
        )
        dirty = True
        rerun_tick = None
    else:
        state = copy.deepcopy(stored)
        rerun_tick = _settle_interrupted(job, state, now, history_limit, notes)
        dirty = stored.current is not None  # the settled run must be written
        if _clock_was_ahead(state, now):
            notes.append(
                Note(
                    logging.WARNING,
                    "job %r was last claimed for %s, more than %.0f h ahead of "
                    "now (%s): the clock was wrong then or is now; restarting its plan "
                    "from now",
                    (job.name, _iso(state.reference), CLOCK_AHEAD_LIMIT / 3600, _iso(now)),
                )
            )
            # The one move back of last_tick: a tick from a clock that was wrong is no
            # tick. Nothing earlier than now runs, so nothing runs twice.
            state.last_tick, state.since, rerun_tick, dirty = None, now, None, True
        if _schedule_changed(job, state, zone):
            previous = state.schedule_key or state.schedule or "(unknown)"
            state.schedule_key, state.schedule = key, job.schedule.describe()
            state.since = max(now, state.since or now)
            rerun_tick, dirty = None, True  # an old schedule's tick is not re-run
            notes.append(
                Note(
                    logging.INFO,
                    "schedule of %r changed from %s to %s; next tick %s",
                    (job.name, previous, key, _iso(next_due(job, state, zone))),
                )
            )
        elif state.schedule_key is None:
            state.schedule_key = key  # adopted silently; stored with the next write

    if trigger == "manual":
        return _claim(state, owner, tick=now, skipped=0, trigger="manual", now=now, notes=notes)
    if stored is None:
        return Decision(Action.WRITE, state, next_due(job, state, zone), tuple(notes))

    due = job.schedule.latest_due(now, state.reference, zone, state.anchor)
    if due is not None and state.last_tick is not None and due[0] <= state.last_tick:
        due = None  # belt and braces: a claimed tick is never claimed again
    if state.paused is not None:
        # Paused: a due tick is recorded as skipped, so that status and `why` show it and
        # resuming never runs a backlog; an interrupted run is not re-run either.
        if due is None:
            action = Action.WRITE if dirty else Action.WAIT
            return Decision(action, state, next_due(job, state, zone), tuple(notes))
        tick, skipped = due
        notes.append(
            Note(
                logging.INFO,
                "job %r is paused (since %s, by %s); tick %s skipped",
                (job.name, _iso(state.paused.since), state.paused.by, _iso(tick)),
            )
        )
        _record_skipped(
            state,
            owner,
            tick=tick,
            now=now,
            skipped=skipped,
            reason="paused",
            history_limit=history_limit,
        )
        return Decision(Action.WRITE, state, next_due(job, state, zone), tuple(notes))
    if due is None and rerun_tick is not None:
        return _claim(
            state, owner, tick=rerun_tick, skipped=0, trigger="rerun", now=now, notes=notes
        )
    if due is None:
        action = Action.WRITE if dirty else Action.WAIT
        return Decision(action, state, next_due(job, state, zone), tuple(notes))

    tick, skipped = due
    if skipped:
        notes.append(
            Note(
                logging.INFO,
                "job %r missed %s tick(s); running once, for the latest (%s)",
                (
                    job.name,
                    # cron counts stop at MAX_COUNTED_SKIPS; interval counts are exact
                    f"at least {skipped}"
                    if isinstance(job.schedule, CronSchedule) and skipped >= MAX_COUNTED_SKIPS
                    else skipped,
                    _iso(tick),
                ),
            )
        )
    if job.max_lateness is not None and now - tick > job.max_lateness:
        notes.append(
            Note(
                logging.WARNING,
                "job %r skipped tick %s: %.1fs late, more than max_lateness=%gs",
                (job.name, _iso(tick), now - tick, job.max_lateness),
            )
        )
        _record_skipped(
            state,
            owner,
            tick=tick,
            now=now,
            skipped=skipped,
            reason="max_lateness",
            history_limit=history_limit,
        )
        return Decision(Action.WRITE, state, next_due(job, state, zone), tuple(notes))
    return _claim(state, owner, tick=tick, skipped=skipped, trigger=trigger, now=now, notes=notes)


def _record_skipped(
    state: JobState,
    owner: Owner,
    *,
    tick: float,
    now: float,
    skipped: int,
    reason: str,
    history_limit: int,
) -> None:
    """Consume ``tick`` without running it, and keep a "skipped" run saying why."""
    state.last_tick = max(tick, state.last_tick or tick)
    run = _new_run(owner, tick, now, "schedule")
    run.outcome, run.ended, run.skipped, run.reason = "skipped", now, skipped, reason
    state.record(run, history_limit)


def paused(stored: JobState, *, now: float, by: str) -> JobState:
    """``stored`` with a pause recorded (an existing pause keeps its time and author)."""
    state = copy.deepcopy(stored)
    if state.paused is None:
        state.paused = Pause(since=now, by=by)
    return state


def resumed(
    job: Job, stored: JobState, *, now: float, zone: tzinfo, owner: Owner, history_limit: int
) -> JobState:
    """``stored`` without its pause. Ticks that fell due while paused and that no check
    recorded are recorded now, as one skipped run: resuming never runs a backlog."""
    state = copy.deepcopy(stored)
    if state.paused is None:
        return state
    if not _schedule_changed(job, state, zone):
        due = job.schedule.latest_due(now, state.reference, zone, state.anchor)
        if due is not None and (state.last_tick is None or due[0] > state.last_tick):
            _record_skipped(
                state,
                owner,
                tick=due[0],
                now=now,
                skipped=due[1],
                reason="paused",
                history_limit=history_limit,
            )
    state.paused = None
    return state


def _settle_interrupted(
    job: Job, state: JobState, now: float, history_limit: int, notes: list[Note]
) -> float | None:
    """Record a run whose holder is gone (no live lease) as interrupted. Returns its tick
    if it is to be run again."""
    run = state.current
    if run is None:
        return None
    error = NOT_ENQUEUED_ERROR if job.handoff is not None else INTERRUPTED_ERROR
    run.outcome, run.ended, run.error = "interrupted", now, error
    state.current = None
    state.record(run, history_limit)
    notes.append(
        Note(
            logging.WARNING,
            "job %r was interrupted: its run for tick %s (pid %s on %s, started "
            "%s) never finished; %s",
            (
                job.name,
                _iso(run.tick),
                run.pid,
                run.host,
                _iso(run.started),
                "running that tick again" if job.rerun_interrupted else "waiting for the next tick",
            ),
        )
    )
    return run.tick if job.rerun_interrupted and run.trigger != "manual" else None


def _claim(
    state: JobState,
    owner: Owner,
    *,
    tick: float,
    skipped: int,
    trigger: Trigger,
    now: float,
    notes: list[Note],
) -> Decision:
    run = _new_run(owner, tick, now, trigger)
    run.skipped = skipped
    if trigger != "manual":
        state.last_tick = max(tick, state.last_tick or tick)
    state.current = run
    return Decision(Action.CLAIM, state, None, tuple(notes))


def _new_run(owner: Owner, tick: float, started: float, trigger: Trigger) -> Run:
    return Run(
        run_id=owner.run_id,
        tick=tick,
        started=started,
        pid=owner.pid,
        host=owner.host,
        trigger=trigger,
        proc_start=owner.proc_start,
    )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
