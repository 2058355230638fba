"""Claiming a tick and running a job: the heart of "exactly once".

:meth:`Runner.attempt` is what a job's thread does, in this order:

1. try the job's lock without blocking; if another thread or process holds it, the job
   is running elsewhere and we leave at once (a job never overlaps itself);
2. re-read the state *under the lock*, so we decide on what is true now;
3. a run still marked as running while we hold its lock belongs to a dead process:
   record it as interrupted (and re-run its tick if the job opted in);
4. find the latest due tick; earlier missed ticks coalesce into it;
5. write the claim (tick and run in progress) *before* running: once it is on disk no
   other process will run that tick, and if the write fails we do not run at all;
6. run the job, record the outcome, release the lock.

The lock gives mutual exclusion; the claim, written under the lock, gives exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import Enum

from ._log import ProblemLog, logger
from .backend import Backend, StateUnreadableError
from .clock import Clock
from .jobs import Job
from .schedules import MAX_COUNTED_SKIPS, TICK_TOLERANCE, CronSchedule
from .state import JobState, Outcome, Run, Trigger

__all__ = ["AttemptResult", "Runner", "current_run", "in_job_thread"]

# Set on lazycron's own threads: a check must never be triggered from inside a job.
_thread_flags = threading.local()
HOST = socket.gethostname()
ERROR_SUMMARY_CHARS = 500


def in_job_thread() -> bool:
    return getattr(_thread_flags, "inside", False)


def current_run() -> Run | None:
    """Inside a job: the run being made (its tick, trigger, lateness). Else ``None``."""
    return getattr(_thread_flags, "run", None)


@contextlib.contextmanager
def lazycron_thread() -> Iterator[None]:
    """Marks the current thread as lazycron's own while the block runs."""
    previous = in_job_thread()
    _thread_flags.inside = True
    try:
        yield
    finally:
        _thread_flags.inside = previous


class Verdict(Enum):
    BUSY = "busy"  # the lock is held elsewhere: the job is running there
    DONE = "done"  # we looked (and maybe ran); ``next_due`` says when to look again
    FAILED = "failed"  # the backend failed; look again after the check interval


@dataclass(frozen=True)
class AttemptResult:
    verdict: Verdict
    next_due: float | None = None
    ran: Run | None = None


JobContext = Callable[[Job], AbstractContextManager[object]]


class Runner:
    """Claims ticks and runs jobs against one backend. Safe to share between threads."""

    def __init__(
        self,
        backend: Backend,
        clock: Clock,
        default_zone: tzinfo,
        *,
        history_limit: int = 50,
        job_context: JobContext | None = None,
        problems: ProblemLog | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.default_zone = default_zone
        self.history_limit = history_limit
        self.job_context = job_context
        self.problems = problems or ProblemLog()

    def zone(self, job: Job) -> tzinfo:
        return job.timezone or self.default_zone

    # -- reading ------------------------------------------------------------------------

    def read(self, job: Job) -> JobState | None:
        """The job's state; an unreadable state is logged once and treated as unseen."""
        try:
            state = self.backend.read(job.name)
        except StateUnreadableError as exc:
            self.problems.report(
                ("unreadable", job.name),
                "lazycron: state of job %r is unreadable and will be reset as if the job "
                "were new (it waits for its next tick): %s",
                job.name,
                exc,
            )
            return None
        self.problems.clear(("unreadable", job.name))
        return state

    def next_due(self, job: Job, state: JobState) -> float:
        return job.schedule.next_after(state.reference, self.zone(job), state.first_seen)

    def needs_attempt(self, job: Job, state: JobState | None, now: float) -> float | None:
        """``None`` when the job needs its lock now (due, new, or a run to look at);
        otherwise the time of its next tick. Reads nothing, takes no lock."""
        if state is None or state.current is not None:
            return None
        due = self.next_due(job, state)
        return None if due <= now + TICK_TOLERANCE else due

    # -- the attempt ----------------------------------------------------------------------

    def attempt(
        self, job: Job, *, trigger: Trigger = "schedule", first_sight_only: bool = False
    ) -> AttemptResult:
        """Lock, re-read, claim and run the job if due. See the module docstring.

        ``trigger="manual"`` runs the job now whether due or not, without consuming a tick.
        ``first_sight_only`` records a new job and stops there: if the job turns out to
        have a state after all, the result's ``next_due`` is ``-inf`` ("attempt it now").
        """
        try:
            lock = self.backend.lock(job.name)
            acquired = lock.acquire()
        except OSError as exc:
            self._storage_failed(exc)
            return AttemptResult(Verdict.FAILED)
        if not acquired:
            return AttemptResult(Verdict.BUSY)
        try:
            return self._attempt_locked(job, trigger, first_sight_only)
        except OSError as exc:
            self._storage_failed(exc)
            return AttemptResult(Verdict.FAILED)
        finally:
            lock.release()

    def _attempt_locked(self, job: Job, trigger: Trigger, first_sight_only: bool) -> AttemptResult:
        now = self.clock.time()
        state = self.read(job)
        if state is not None and first_sight_only:
            return AttemptResult(Verdict.DONE, -math.inf)
        if state is None:
            # First sight: remember when, so a cron job waits for its next tick and an
            # interval job waits one full interval. Never fire on the first request.
            state = JobState(first_seen=now, schedule=job.schedule.describe())
            self._write(job, state)
            if trigger != "manual":
                return AttemptResult(Verdict.DONE, self.next_due(job, state))

        interrupted = state.current is not None
        rerun_tick = self._settle_interrupted(job, state, now)
        if trigger == "manual":
            return self._run(job, state, tick=now, skipped=0, trigger="manual")

        due = job.schedule.latest_due(now, state.reference, self.zone(job), state.first_seen)
        if due is not None and state.last_tick is not None and due[0] <= state.last_tick:
            due = None  # belt and braces: a claimed tick is never claimed again
        if due is None and rerun_tick is not None:
            due, trigger = (rerun_tick, 0), "rerun"
        if due is None:
            if interrupted:
                self._write(job, state)
            return AttemptResult(Verdict.DONE, self.next_due(job, state))

        tick, skipped = due
        if skipped:
            logger.info(
                "lazycron: job %r missed %s tick(s); running once, for the latest (%s)",
                job.name,
                # cron counts stop at MAX_COUNTED_SKIPS; interval counts are exact
                f"at least {skipped}"
                if isinstance(job.schedule, CronSchedule) and skipped >= MAX_COUNTED_SKIPS
                else skipped,
                _iso(tick),
            )
        if job.max_lateness is not None and now - tick > job.max_lateness:
            logger.warning(
                "lazycron: job %r skipped tick %s: %.1fs late, more than max_lateness=%gs",
                job.name,
                _iso(tick),
                now - tick,
                job.max_lateness,
            )
            state.last_tick = max(tick, state.last_tick or tick)
            skipped_run = self._new_run(tick, now, trigger)
            skipped_run.outcome, skipped_run.ended, skipped_run.skipped = "skipped", now, skipped
            state.record(skipped_run, self.history_limit)
            self._write(job, state)
            return AttemptResult(Verdict.DONE, self.next_due(job, state))
        return self._run(job, state, tick=tick, skipped=skipped, trigger=trigger)

    def _settle_interrupted(self, job: Job, state: JobState, now: float) -> float | None:
        """Record a run left "running" by a dead process. Returns its tick if it is to be
        run again. We hold the lock, so nobody alive can be running it."""
        run = state.current
        if run is None:
            return None
        run.outcome, run.ended = "interrupted", now
        run.error = "the process running this job died or was stopped before it finished"
        state.current = None
        state.record(run, self.history_limit)
        logger.warning(
            "lazycron: job %r was interrupted: its run for tick %s (pid %s on %s, started "
            "%s) never finished; %s",
            job.name,
            _iso(run.tick),
            run.pid,
            run.host,
            _iso(run.started),
            "running that tick again" if job.rerun_interrupted else "waiting for the next tick",
        )
        return run.tick if job.rerun_interrupted and run.trigger != "manual" else None

    def _run(
        self, job: Job, state: JobState, *, tick: float, skipped: int, trigger: Trigger
    ) -> AttemptResult:
        run = self._new_run(tick, self.clock.time(), trigger)
        run.skipped = skipped
        if trigger != "manual":
            state.last_tick = max(tick, state.last_tick or tick)
        state.current = run
        state.schedule = job.schedule.describe()
        self._write(job, state)  # the claim: if this raises, the job does not run

        run.outcome, run.error = self._execute(job, run)
        run.ended = self.clock.time()
        state.current = None
        state.record(run, self.history_limit)
        self._write(job, state)
        return AttemptResult(Verdict.DONE, self.next_due(job, state), ran=run)

    def _new_run(self, tick: float, started: float, trigger: Trigger) -> Run:
        return Run(
            run_id=uuid.uuid4().hex,
            tick=tick,
            started=started,
            pid=os.getpid(),
            host=HOST,
            trigger=trigger,
        )

    def _execute(self, job: Job, run: Run) -> tuple[Outcome, str | None]:
        logger.debug("lazycron: running job %r for tick %s", job.name, _iso(run.tick))
        _thread_flags.run = run
        try:
            with (
                lazycron_thread(),
                self.job_context(job) if self.job_context else contextlib.nullcontext(),
            ):
                result = job.func()
                if asyncio.iscoroutine(result):
                    asyncio.run(result)
        except BaseException as exc:  # a job must never take the process down with it
            logger.error(
                "lazycron: job %r failed for tick %s", job.name, _iso(run.tick), exc_info=True
            )
            summary = "".join(traceback.format_exception_only(exc)).strip()
            return "failed", summary[:ERROR_SUMMARY_CHARS]
        finally:
            _thread_flags.run = None
        logger.info(
            "lazycron: job %r finished in %.3fs (tick %s, %.3fs late)",
            job.name,
            self.clock.time() - run.started,
            _iso(run.tick),
            run.lateness,
        )
        return "ok", None

    def _write(self, job: Job, state: JobState) -> None:
        self.backend.write(job.name, state)
        self.problems.clear(
            "storage", "lazycron: state directory %s is usable again", self.backend.location
        )

    def _storage_failed(self, exc: OSError) -> None:
        self.problems.report(
            "storage",
            "lazycron: cannot use state directory %s (%s); jobs are paused and the site keeps "
            "serving; they resume by themselves once the directory is usable",
            self.backend.location,
            exc,
        )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
