"""Claiming a tick and running a job: the heart of "exactly once".

:meth:`Runner.attempt` is what a job's thread does. It is a thin shell around the pure
:func:`lazycron.decision.decide`, speaking only the claim protocol of
:mod:`lazycron.backends.base`, so every backend gets the same claim logic:

1. **read** the job's record: its state, version, and whether a live lease is held (the
   job runs elsewhere: leave at once; a job never overlaps itself);
2. **decide**, with no I/O, what is due: first sight, a schedule change, a clock reset, an
   interrupted run to settle (and re-run if the job opted in), the latest due tick with
   the missed ones coalesced into it, or a tick too late to run (``max_lateness``);
3. **commit** the decision with one conditional operation: ``write`` (nothing to run) or
   ``claim`` (the tick, the run in progress and the lease, at once). If somebody else
   changed the record since step 1, or the store fails, the job does not run;
4. **run** the job, renewing the lease meanwhile if it can expire;
5. **finish**: record the outcome and release the lease, fenced on the run's token. An
   outcome that cannot be written is kept and retried, lease held, for as long as this
   process lives: a run that completed is never settled as interrupted.

The claim, committed before running, gives exactly once; the lease gives no overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import Enum

from . import _owner, hooks
from ._context import current_run, in_lazycron_thread, lazycron_thread, running
from ._log import ProblemLog, logger
from ._threads import start_thread
from .backends.base import Backend, Lease, Snapshot, StateUnreadableError
from .clock import Clock
from .decision import CLOCK_AHEAD_LIMIT, Action, Decision, Owner, decide, wants_attempt
from .decision import next_due as decision_next_due
from .errors import ConfigurationError
from .handoff import Enqueued, SharesTransactions, TaskHandoff
from .jobs import Job
from .state import (
    ERROR_SUMMARY_BYTES,
    MAX_HISTORY_LIMIT,
    JobState,
    Outcome,
    Run,
    Trigger,
    limit_text,
)

__all__ = [
    "AttemptResult",
    "JobContext",
    "Runner",
    "Verdict",
    "current_run",
    "in_job_thread",
    "lazycron_thread",
]

HOST = _owner.HOST
# An outcome that could not be written is retried after these many seconds, doubling.
FINISH_RETRY_FIRST = 0.5
FINISH_RETRY_MAX = 30.0
# How long a live lease seen by read() lets the next attempt skip its own read.
SEEN_BUSY_FOR = 1.0


def in_job_thread() -> bool:
    """Whether lazycron's own code runs on this thread (a check must not start here)."""
    return in_lazycron_thread()


class Verdict(Enum):
    BUSY = "busy"  # a live lease elsewhere (the job runs there), or the record moved on
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
        hooks: Sequence[object] = (),
    ) -> None:
        if (
            isinstance(history_limit, bool)
            or not isinstance(history_limit, int)
            or not 1 <= history_limit <= MAX_HISTORY_LIMIT
        ):
            raise ConfigurationError(
                f"history_limit={history_limit!r} must be from 1 to {MAX_HISTORY_LIMIT}, so "
                f"that a job's state stays small enough to be read back"
            )
        self.backend = backend
        self.clock = clock
        self.default_zone = default_zone
        self.history_limit = history_limit
        self.job_context = job_context
        self.problems = problems or ProblemLog()
        self.hooks = hooks  # see lazycron.hooks
        # A busy job costs one read per check, as before the protocol: the dispatcher's
        # read() finds a live lease (remembered here with the state it returned), its
        # needs_attempt() on that very state arms the shortcut (with the monotonic time),
        # and the attempt it starts right after is BUSY without reading again. Only ever a
        # shortcut to "do not run", never to running.
        self._read_busy: dict[str, JobState] = {}
        self._seen_busy: dict[str, float] = {}
        self._wall_offset: float | None = None

    def wall_clock_stepped_back(self) -> bool:
        """Whether the wall clock stepped back by more than ``CLOCK_AHEAD_LIMIT`` since
        the last call (wall time minus monotonic time shrank). A plan made before is void:
        its ticks come from a clock that was far ahead. Callers hold their own lock."""
        offset = self.clock.time() - self.clock.monotonic()
        previous, self._wall_offset = self._wall_offset, offset
        return previous is not None and offset < previous - CLOCK_AHEAD_LIMIT

    def zone(self, job: Job) -> tzinfo:
        return job.timezone or self.default_zone

    # -- reading ------------------------------------------------------------------------

    def read(self, job: Job) -> JobState | None:
        """The job's state; an unreadable state is logged once and treated as unseen.
        Raises ``OSError`` when the store cannot be read."""
        snapshot, _ = self._snapshot(job)
        if snapshot is None:
            return None
        if snapshot.lease_live:
            self._read_busy[job.name] = snapshot.state
        else:
            self._read_busy.pop(job.name, None)
        return snapshot.state

    def _snapshot(self, job: Job) -> tuple[Snapshot | None, int | None]:
        """The job's record and the version a write must expect. An unreadable record is
        logged once and comes back as absent, at the version a reset must be conditional
        on (see ``StateUnreadableError``)."""
        try:
            snapshot = self.backend.read(job.name)
        except StateUnreadableError as exc:
            self.problems.report(
                ("unreadable", job.name),
                "state of job %r is unreadable and will be reset as if the job "
                "were new (it waits for its next tick): %s",
                job.name,
                exc,
            )
            return None, exc.version
        self.problems.clear(("unreadable", job.name))
        return snapshot, snapshot.version if snapshot is not None else None

    def next_due(self, job: Job, state: JobState) -> float:
        return decision_next_due(job, state, self.zone(job))

    def needs_attempt(self, job: Job, state: JobState | None, now: float) -> float | None:
        """``None`` when the job needs an attempt now (due, new, a run to look at, a
        schedule change or a clock reset to record); otherwise the time of its next tick.
        Reads nothing, takes no lock."""
        wait_until = wants_attempt(job, state, now, self.zone(job))
        if wait_until is None and state is not None and self._read_busy.get(job.name) is state:
            self._seen_busy[job.name] = self.clock.monotonic()
        self._read_busy.pop(job.name, None)
        return wait_until

    # -- the attempt ----------------------------------------------------------------------

    def attempt(
        self, job: Job, *, trigger: Trigger = "schedule", first_sight_only: bool = False
    ) -> AttemptResult:
        """Read, decide, commit, and run the job if due. See the module docstring.

        ``trigger="manual"`` runs the job now whether due or not, without consuming a tick.
        ``first_sight_only`` records a new job and stops there: if the job turns out to
        have a state after all, the result's ``next_due`` is ``-inf`` ("attempt it now").
        Never raises for a store failure: that is logged once and the job does not run.
        """
        try:
            return self._attempt(job, trigger, first_sight_only)
        except OSError as exc:  # BackendError included: fail closed
            self._storage_failed(job, exc)
            return AttemptResult(Verdict.FAILED)

    def _attempt(self, job: Job, trigger: Trigger, first_sight_only: bool) -> AttemptResult:
        seen_busy = self._seen_busy.pop(job.name, None)
        if seen_busy is not None and self.clock.monotonic() - seen_busy < SEEN_BUSY_FOR:
            return AttemptResult(Verdict.BUSY)
        snapshot, expected = self._snapshot(job)
        if snapshot is not None and first_sight_only:
            return AttemptResult(Verdict.DONE, -math.inf)
        decision = decide(
            job,
            snapshot.state if snapshot else None,
            lease_live=snapshot.lease_live if snapshot else False,
            now=self.clock.time(),
            zone=self.zone(job),
            owner=self._owner(),
            trigger=trigger,
            history_limit=self.history_limit,
        )
        if decision.action is Action.BUSY:
            return AttemptResult(Verdict.BUSY)
        if decision.action is Action.WAIT:
            self._storage_ok(job)
            return AttemptResult(Verdict.DONE, decision.next_due)
        assert decision.state is not None
        if decision.action is Action.WRITE:
            if not self.backend.write(job.name, decision.state, expected=expected):
                # Somebody else changed the record (or holds the job) since we read it:
                # after a first sight, look again at once; else as for a busy job.
                if first_sight_only:
                    return AttemptResult(Verdict.DONE, -math.inf)
                return AttemptResult(Verdict.BUSY)
            self._storage_ok(job)
            _log_notes(decision)
            return AttemptResult(Verdict.DONE, decision.next_due)
        assert decision.run is not None
        # Live in this process from before the claim is on record, so no other thread of
        # ours can take the run for a dead one's (see lazycron._owner).
        with _owner.track(decision.run.run_id):
            if job.handoff is not None:
                return self._hand_off(job, job.handoff, decision, expected)
            lease = self.backend.claim(job.name, decision.state, expected=expected)
            if lease is None:
                return AttemptResult(Verdict.BUSY)  # somebody got there first: do not run
            self._storage_ok(job)
            _log_notes(decision)
            return self._run_claimed(job, decision, lease)

    def _owner(self) -> Owner:
        return Owner(
            run_id=uuid.uuid4().hex,
            host=HOST,
            pid=os.getpid(),
            proc_start=_owner.this_process_start(),
        )

    def _run_claimed(self, job: Job, decision: Decision, lease: Lease) -> AttemptResult:
        run = decision.run
        assert run is not None and decision.state is not None
        try:
            with self._heartbeat(job, lease):
                hooks.run_started(job, run, self.hooks)
                run.outcome, run.error = self._execute(job, run)
                run.ended = self.clock.time()
                self._finish(job, run, lease)
        except BaseException:
            lease.release()  # never hold the job for a thread that is gone
            raise
        hooks.run_finished(job, run, self.hooks)  # after the outcome is on record
        state = decision.state
        state.current = None
        state.record(run, self.history_limit)
        return AttemptResult(Verdict.DONE, self.next_due(job, state), ran=run)

    # -- a job declared on a task: enqueue it instead of running it -------------------------

    def _hand_off(
        self, job: Job, handoff: TaskHandoff, decision: Decision, expected: int | None
    ) -> AttemptResult:
        """Claim the tick and enqueue its task.

        When the backend can share a transaction with the task backend (the Django
        database backend and a database task backend on one database), the claim, the
        enqueue and the run's record commit together or not at all: exactly once. Else the
        claim commits first, then the task is enqueued: a death in between leaves the run
        to be settled as "claimed, not enqueued" (at most once).
        """
        run, state = decision.run, decision.state
        assert run is not None and state is not None
        with self._job_scope(job, run):
            joint = self._joint_transaction(handoff)
            failure: BaseException | None = None
            if joint is not None:
                try:
                    with joint:
                        lease = self.backend.claim(job.name, state, expected=expected)
                        if lease is None:
                            raise _ClaimLostError
                        try:
                            self._record_enqueue(run, handoff.enqueue(run.tick))
                        except Exception as exc:
                            failure = exc
                            raise  # roll the claim back with the failed enqueue
                        if not lease.finish(self._recorder(run)):
                            raise _ClaimLostError
                        _pause_before_commit()
                except _ClaimLostError:
                    return AttemptResult(Verdict.BUSY)
                except Exception:
                    if failure is None:
                        raise  # the store failed: nothing was committed, try again later
                else:
                    return self._handed_off(job, decision)
            # No shared transaction, or a failed enqueue to record: claim, then enqueue.
            lease = self.backend.claim(job.name, state, expected=expected)
            if lease is None:
                return AttemptResult(Verdict.BUSY)
            self._storage_ok(job)
            try:
                with self._heartbeat(job, lease):
                    if failure is None:
                        try:
                            self._record_enqueue(run, handoff.enqueue(run.tick))
                        except Exception as exc:
                            failure = exc
                    if failure is not None:
                        run.outcome, run.error = "failed", _summary(failure)
                        logger.error(
                            "job %r could not enqueue its task for tick %s",
                            job.name,
                            _iso(run.tick),
                            exc_info=failure,
                        )
                    run.ended = self.clock.time()
                    self._finish(job, run, lease)
            except BaseException:
                lease.release()
                raise
            return self._handed_off(job, decision)

    def _joint_transaction(self, handoff: TaskHandoff) -> AbstractContextManager[None] | None:
        if not isinstance(self.backend, SharesTransactions):
            return None
        return self.backend.transaction_with(handoff.task_backend())

    def _record_enqueue(self, run: Run, enqueued: Enqueued) -> None:
        run.outcome, run.ended = "enqueued", self.clock.time()
        run.task_id, run.task_backend = enqueued.result_id, enqueued.backend
        run.task_status = enqueued.status

    def _handed_off(self, job: Job, decision: Decision) -> AttemptResult:
        run, state = decision.run, decision.state
        assert run is not None and state is not None
        self._storage_ok(job)
        _log_notes(decision)
        if run.outcome == "enqueued":
            logger.info(
                "job %r enqueued task %s on task backend %r (tick %s, %.3fs late)",
                job.name,
                run.task_id,
                run.task_backend,
                _iso(run.tick),
                run.lateness,
            )
        state.current = None
        state.record(run, self.history_limit)
        return AttemptResult(Verdict.DONE, self.next_due(job, state), ran=run)

    def _recorder(self, run: Run) -> Callable[[JobState], None]:
        def record(state: JobState) -> None:
            state.current = None
            state.record(run, self.history_limit)

        return record

    def _job_scope(self, job: Job, run: Run) -> contextlib.ExitStack:
        scope = contextlib.ExitStack()
        scope.enter_context(running(run))
        scope.enter_context(lazycron_thread())
        if self.job_context is not None:
            scope.enter_context(self.job_context(job))
        return scope

    def _finish(self, job: Job, run: Run, lease: Lease) -> None:
        """Record the outcome, fenced on the lease's token. An outcome that cannot be
        written is kept, and the write retried with backoff while the lease is held: a
        completed run must never be settled as interrupted by somebody else."""
        record = self._recorder(run)
        delay = FINISH_RETRY_FIRST
        while True:
            try:
                accepted = lease.finish(record)
            except OSError as exc:
                self.problems.report(
                    ("finish", job.name),
                    "job %r %s for tick %s, but its outcome cannot be written (%s); "
                    "keeping the job's lease and retrying until it can be",
                    job.name,
                    "failed" if run.outcome == "failed" else "finished",
                    _iso(run.tick),
                    exc,
                )
                _sleep(delay)
                delay = min(delay * 2, FINISH_RETRY_MAX)
                continue
            break
        self.problems.clear(("finish", job.name), "outcome of job %r is written", job.name)
        if not accepted:
            logger.error(
                "job %r finished its run for tick %s, but lost its lease meanwhile "
                "and the record has moved on; this outcome (%s) was not recorded",
                job.name,
                _iso(run.tick),
                run.outcome,
            )

    @contextlib.contextmanager
    def _heartbeat(self, job: Job, lease: Lease) -> Iterator[None]:
        """Renew the lease every ``renew_every`` seconds while the block runs.

        From a helper thread: the job's thread is busy running the job, and a dispatcher
        runs only when requests come, so neither could renew on a quiet site. Only a lease
        that can expire has a period (never the file backend's OS lock, which is bound to
        the claiming thread and needs no renewal).
        """
        every = lease.renew_every
        if every is None:
            yield
            return
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(every):
                try:
                    if not lease.renew():
                        logger.error(
                            "job %r lost its lease while running; another holder "
                            "may claim it, and this run's outcome will be rejected",
                            job.name,
                        )
                        return
                except OSError as exc:
                    self.problems.report(
                        ("renew", job.name),
                        "could not renew the lease of job %r (%s); retrying",
                        job.name,
                        exc,
                    )
                    continue
                self.problems.clear(("renew", job.name))

        handle = start_thread(renew, f"lazycron-lease:{job.name}")
        try:
            yield
        finally:
            stop.set()
            handle.join(every)

    def _execute(self, job: Job, run: Run) -> tuple[Outcome, str | None]:
        logger.debug("running job %r for tick %s", job.name, _iso(run.tick))
        try:
            with (
                running(run),
                lazycron_thread(),
                self.job_context(job) if self.job_context else contextlib.nullcontext(),
            ):
                result = job.func()
                if asyncio.iscoroutine(result):
                    asyncio.run(result)
        except BaseException as exc:  # a job must never take the process down with it
            logger.error("job %r failed for tick %s", job.name, _iso(run.tick), exc_info=True)
            return "failed", _summary(exc)
        logger.info(
            "job %r finished in %.3fs (tick %s, %.3fs late)",
            job.name,
            self.clock.time() - run.started,
            _iso(run.tick),
            run.lateness,
        )
        return "ok", None

    # -- problems, per job: one broken job must not make a healthy one look paused ------------

    def _storage_ok(self, job: Job) -> None:
        self.problems.clear(
            ("storage", job.name),
            "state of job %r in %s is usable again; the job is resumed",
            job.name,
            self.backend.location,
        )

    def _storage_failed(self, job: Job, exc: OSError) -> None:
        self.problems.report(
            ("storage", job.name),
            "cannot use the state of job %r in %s (%s); the job is paused and the "
            "site keeps serving; it resumes by itself once the state is usable",
            job.name,
            self.backend.location,
            exc,
        )


class _ClaimLostError(Exception):
    """Inside a shared transaction: somebody else claimed the tick; roll back."""


# For the tests of the shared transaction only: a file to create, and then sleep, once the
# claim, the enqueue and the record are written and before they commit, so that a test
# can kill the process at that very point.
PAUSE_BEFORE_COMMIT_ENV = "LAZYCRON_TEST_PAUSE_BEFORE_COMMIT"


def _pause_before_commit() -> None:
    marker = os.environ.get(PAUSE_BEFORE_COMMIT_ENV)
    if marker:
        with open(marker, "a") as file:
            file.write(f"{os.getpid()}\n")
        _sleep(3600)


def _summary(exc: BaseException) -> str:
    summary = "".join(traceback.format_exception_only(exc)).strip()
    return limit_text(summary, ERROR_SUMMARY_BYTES)


def _log_notes(decision: Decision) -> None:
    for note in decision.notes:
        logger.log(note.level, note.msg, *note.args)


def _sleep(seconds: float) -> None:
    threading.Event().wait(seconds)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
