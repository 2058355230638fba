"""The dispatcher: the threads that turn due jobs into attempts, off the request.

:meth:`Dispatcher.check` (after a response) starts at most one short-lived dispatcher
thread. It pops the jobs whose time has come from the plan (so its cost grows with the
number of *due* jobs, not registered ones), reads each one's state, and starts one
short-lived thread per job that really needs its lock. That thread runs
:meth:`Runner.attempt` (lock, re-read, claim, run, record) and hands the job back to the
plan at its next tick. A slow job therefore never holds back another, and a job never has
more than one thread in any process.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC

from ._log import logger
from ._owner import HOST
from ._plan import Plan
from ._reporting import overrun
from ._threads import Handle, start_thread
from .backends.base import CheckMark, CheckRecorder
from .backends.open import describe
from .errors import ConfigurationError
from .health import max_runtime
from .jobs import Job
from .runner import AttemptResult, Runner, Verdict, lazycron_thread
from .state import Run

__all__ = ["MIN_RETRY", "STUCK_AFTER", "Dispatcher", "JobThread"]

# A job found running elsewhere (or a backend error) is looked at again after this long
# at the least, so a check interval of 0 cannot turn into a thread per request.
MIN_RETRY = 1.0
# A dispatcher thread not running this long after it was started means threads do not run.
STUCK_AFTER = 10.0


@dataclass
class JobThread:
    """One attempt of one job on a thread of its own; ``result`` is set when it ends."""

    job: Job
    result: AttemptResult | None = None
    handle: Handle | None = field(default=None, repr=False)


class Dispatcher:
    """The dispatcher and job threads of one process."""

    def __init__(self, plan: Plan, runner: Runner) -> None:
        self.plan = plan
        self.runner = runner
        self.registry = plan.registry
        self.backend = runner.backend
        self.clock = runner.clock
        self.problems = runner.problems
        self.dispatching = threading.Lock()  # held while a dispatch is under way
        self.threads: set[Handle] = set()
        self._threads_mutex = threading.Lock()
        self._started_at = -math.inf
        self._next_mark = -math.inf
        self._began = True

    def check(self) -> None:
        """Start a dispatcher thread if a job's planned time has come, else re-arm. Does
        nothing while another check of this process is under way."""
        if not self.dispatching.acquire(blocking=False):
            self._notice_stuck()
            return
        handed_over = False
        try:
            now_monotonic = self.clock.monotonic()
            self.plan.checked(now_monotonic)
            if self.runner.wall_clock_stepped_back():
                # A plan made while the wall clock was far ahead would wait until that
                # date: forget it, so every job's state is read again.
                self.plan.forget()
            if self.plan.has_ready(self.clock.time()):
                self._started_at, self._began = now_monotonic, False
                start_thread(self._dispatch_in_thread, "lazycron-dispatch")
                handed_over = True  # the thread releases ``dispatching`` when done
            else:
                self._rearm()
        except Exception:
            self.problems.report("check", "check failed", exc_info=True)
        finally:
            if not handed_over:
                self.dispatching.release()

    def check_now(self) -> list[str]:
        """A check on the calling thread, whatever the plan's wake-up says (the trigger
        URL): read the jobs whose planned time has come and start a thread for each due
        one. Returns their names; never runs or waits for a job. Does nothing while
        another check of this process is under way."""
        if not self.dispatching.acquire(blocking=False):
            return []
        try:
            self.plan.checked(self.clock.monotonic())
            if self.runner.wall_clock_stepped_back():
                self.plan.forget()
            with lazycron_thread():
                return [thread.job.name for thread in self.dispatch()]
        finally:
            self.dispatching.release()

    def run_due(self, timeout: float | None) -> list[tuple[str, Run]]:
        """Attempt every job that is due, whatever this process planned, and wait for
        them: the runs made."""
        with self.dispatching:
            self.plan.forget()
            threads = self.dispatch()
        for thread in threads:
            if thread.handle is not None:
                thread.handle.join(timeout)
        return [
            (thread.job.name, thread.result.ran)
            for thread in threads
            if thread.result is not None and thread.result.ran is not None
        ]

    def _notice_stuck(self) -> None:
        """A dispatcher that was started but never began means this server does not run
        Python threads (uWSGI without --enable-threads). Say so once, clearly."""
        waited = self.clock.monotonic() - self._started_at
        if not self._began and waited > STUCK_AFTER:
            self.problems.report(
                "threads",
                "a background thread started %.0fs ago has not run yet, so no job "
                "can run in this process. This server is not running Python threads: under "
                "uWSGI add --enable-threads.",
                waited,
            )

    def wait_idle(self, timeout: float) -> bool:
        """Join the dispatcher and the job threads started so far."""
        with self.dispatching:
            pass
        with self._threads_mutex:
            threads = list(self.threads)
        for thread in threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in threads)

    # -- the dispatcher thread --------------------------------------------------------------

    def _dispatch_in_thread(self) -> None:
        self._began = True
        try:
            with lazycron_thread():
                self.dispatch()
        except Exception:
            self.problems.report("dispatch", "dispatch failed", exc_info=True)
        finally:
            self.dispatching.release()

    def dispatch(self) -> list[JobThread]:
        """Look at every job whose time has come; start a thread for each that needs its
        lock, and return those threads."""
        names = self.plan.pop_ready(self.clock.time())
        retry_at = self._retry_at()
        try:
            self.backend.prepare()
        except (OSError, ConfigurationError) as exc:
            self.problems.report(
                "prepare",
                "cannot use %s: %s. Jobs are paused and the site "
                "keeps serving; they resume by themselves once this is fixed.",
                describe(self.backend),
                str(exc).rstrip("."),  # redis-py's messages end with one already
            )
            for name in names:
                self.plan.put(name, retry_at)
            self._rearm()
            return []
        self.problems.clear("prepare", "%s is usable again", describe(self.backend))
        self._mark_check()

        started: list[JobThread] = []
        for name in names:
            try:
                thread = self._dispatch_one(name, retry_at)
            except Exception:
                # One job's surprise must not strand the others popped with it.
                self.problems.report(
                    ("dispatch", name), "could not look at job %r", name, exc_info=True
                )
                self.plan.put(name, retry_at)
                continue
            if thread is not None:
                started.append(thread)
        self._rearm()
        return started

    def _dispatch_one(self, name: str, retry_at: float) -> JobThread | None:
        """Read one popped job's state and decide: plan it for later, or start its thread."""
        if name not in self.registry:
            return None
        job = self.registry.get(name)
        now = self.clock.time()
        state = self.runner.read(job)
        if state is None:
            # First sight (or an unreadable state): record it inline. This never runs the
            # job; it only writes down when the job was first seen.
            result = self.runner.attempt(job, first_sight_only=True)
            if not (result.verdict is Verdict.DONE and result.next_due == -math.inf):
                self.plan.put(name, result.next_due if result.next_due else retry_at)
                return None
        else:
            wait_until = self.runner.needs_attempt(job, state, now)
            if wait_until is not None:
                self.plan.put(name, wait_until)
                return None
            self._log_overrun(job, state.current, now)
        return self._spawn(job)

    def _spawn(self, job: Job) -> JobThread:
        thread = JobThread(job)
        self.plan.hand_out(job.name)
        try:
            thread.handle = start_thread(lambda: self._attempt(thread), f"lazycron:{job.name}")
        except BaseException:
            self.plan.take_back(job.name, self._retry_at())
            raise
        with self._threads_mutex:
            # Finished threads are pruned here rather than by themselves, so wait_idle()
            # can still join a thread that is in its last few instructions.
            self.threads = {t for t in self.threads if t.is_alive()}
            self.threads.add(thread.handle)
        return thread

    # -- a job thread -------------------------------------------------------------------------

    def _attempt(self, thread: JobThread) -> None:
        job = thread.job
        result = AttemptResult(Verdict.FAILED)
        try:
            with lazycron_thread():
                result = self.runner.attempt(job)
        except Exception:
            logger.exception("unexpected error while attempting job %r", job.name)
        finally:
            thread.result = result
            # BUSY and FAILED carry no next_due: look again after the retry interval.
            due = result.next_due if result.next_due is not None else self._retry_at()
            if result.verdict is Verdict.DONE:
                self.problems.clear(("overrun", job.name))
            self.plan.take_back(job.name, due)
            self._rearm()

    # -- helpers ------------------------------------------------------------------------------

    def _mark_check(self) -> None:
        """Leave the site's "last check" mark for ``lazycron why``: at most once per check
        interval (and second) per process, and only where the backend keeps one."""
        if not isinstance(self.backend, CheckRecorder):
            return
        now = self.clock.monotonic()
        if now < self._next_mark:
            return
        self._next_mark = now + max(self.plan.check_interval, MIN_RETRY)
        try:
            self.backend.mark_check(CheckMark(self.clock.time(), HOST, os.getpid()))
        except OSError as exc:
            # A hint for `why` only: it never keeps a job from running, and a store that
            # cannot take it cannot take the jobs' own state either, which is logged once
            # per job. A second error line for the same cause would only be noise.
            logger.debug("could not record the last check: %s", exc)

    def _retry_at(self) -> float:
        return self.clock.time() + max(self.plan.check_interval, MIN_RETRY)

    def _rearm(self) -> None:
        # Both clocks are read before the plan's mutex is taken: the plan publishes the
        # wake-up from the heap as it is at that moment, newer than either reading.
        self.plan.rearm(self.clock.time(), self.clock.monotonic())

    def _log_overrun(self, job: Job, running: Run | None, now: float) -> None:
        elapsed = overrun(job, running, now)
        if elapsed is None or running is None:
            return
        self.problems.report(
            ("overrun", job.name),
            "job %r has been running for %.0fs (pid %s on %s), longer than its "
            "max_runtime (expected_duration) of %gs",
            job.name,
            elapsed,
            running.pid,
            running.host,
            max_runtime(job, UTC, running.tick),
        )
