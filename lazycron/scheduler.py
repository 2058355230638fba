"""The scheduler: the per-process fast path, and the dispatch of due jobs.

Per request, an adapter asks one question, after the response has gone out::

    scheduler.monotonic() >= scheduler.wake_at      # one clock read, one comparison

``wake_at`` is the earlier of "the next tick this process knows of" and nothing sooner
than ``check_interval`` after the last check (a monotonic time, so wall-clock jumps do
not matter). Only when it has passed does the adapter call :meth:`Scheduler.check`,
which starts at most one short-lived *dispatcher* thread and returns.

The dispatcher pops the jobs whose next tick has come from an in-memory heap (so its
cost grows with the number of *due* jobs, not registered ones), reads each one's state,
and starts one short-lived thread per job that really needs its lock. That thread runs
:meth:`Runner.attempt` (lock, re-read, claim, run, record) and puts the job back on the
heap at its next tick. A slow job therefore never holds back another, and a job never
has more than one thread in any process.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from ._log import ProblemLog, logger
from ._threads import Handle, start_thread
from .backends import Backend, FileBackend, default_state_dir
from .clock import Clock, SystemClock
from .errors import ConfigurationError
from .jobs import Job, Registry, default_registry
from .runner import AttemptResult, JobContext, Runner, Verdict, in_job_thread, lazycron_thread
from .schedules import TICK_TOLERANCE, resolve_timezone
from .state import JobState, Run

__all__ = ["JobStatus", "Scheduler"]

# However far away the next tick, look again at least this often, so that a wall clock
# that jumps forward (a VM resumed, NTP stepping) is noticed within minutes. Looking is
# an in-memory comparison; nothing is read from disk unless a job is due.
MAX_SLEEP = 300.0
# A job found running elsewhere (or a backend error) is looked at again after this long
# at the least, so a check interval of 0 cannot turn into a thread per request.
MIN_RETRY = 1.0
# A dispatcher thread not running this long after it was started means threads do not run.
STUCK_AFTER = 10.0

_schedulers: weakref.WeakSet[Scheduler] = weakref.WeakSet()


@dataclass(frozen=True)
class JobStatus:
    """What ``lazycron status`` shows for one job."""

    job: Job
    state: JobState | None
    next_tick: float | None
    running: Run | None
    overrunning: bool


class Scheduler:
    """Decides, per process, when to look for due jobs, and runs them off the request.

    :param registry: the jobs; defaults to the one ``@lazycron.job`` fills.
    :param state_dir: where the file backend keeps state and locks; defaults to a
        private per-user, per-application directory (see :func:`default_state_dir`).
    :param backend: a backend object instead of ``state_dir``.
    :param check_interval: seconds; each process reads state at most this often, and
        only when a job may be due. 0 looks whenever a job may be due.
    :param timezone: the zone cron expressions are read in unless a job names its own.
    :param clock: an object with ``time()`` and ``monotonic()``; tests inject a fake.
    :param history_limit: how many past runs each job's state keeps.
    :param job_context: a callable ``(job) -> context manager`` wrapped around each run
        (the Django adapter closes stale database connections with it).
    """

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        backend: Backend | None = None,
        check_interval: float = 30.0,
        timezone: str | tzinfo = "UTC",
        clock: Clock | None = None,
        history_limit: int = 50,
        job_context: JobContext | None = None,
    ) -> None:
        if isinstance(check_interval, bool) or not isinstance(check_interval, int | float):
            raise ConfigurationError(f"check_interval={check_interval!r} must be seconds")
        if not math.isfinite(check_interval) or check_interval < 0:
            raise ConfigurationError(f"check_interval={check_interval!r} must be 0 or more")
        if not isinstance(history_limit, int) or history_limit < 1:
            raise ConfigurationError(f"history_limit={history_limit!r} must be 1 or more")
        if backend is not None and state_dir is not None:
            raise ConfigurationError("give state_dir= or backend=, not both")
        zone = timezone if isinstance(timezone, tzinfo) else resolve_timezone(timezone)

        self.registry = registry if registry is not None else default_registry
        self.backend: Backend = backend or FileBackend(
            Path(state_dir) if state_dir is not None else default_state_dir()
        )
        self.check_interval = float(check_interval)
        self.clock: Clock = clock or SystemClock()
        self.monotonic = self.clock.monotonic
        self.problems = ProblemLog()
        self.runner = Runner(
            self.backend,
            self.clock,
            zone,
            history_limit=history_limit,
            job_context=job_context,
            problems=self.problems,
        )
        self._reset_process_state()
        _schedulers.add(self)
        logger.debug("lazycron: state in %s", self.backend.location)

    def _reset_process_state(self) -> None:
        """Everything that belongs to one process. Rebuilt in a forked child, so no lock,
        thread or half-made plan is ever inherited across ``fork``."""
        self.wake_at = -math.inf  # the first request of a process looks at the state
        self._last_check = -math.inf
        self._mutex = threading.Lock()
        self._dispatching = threading.Lock()
        self._heap: list[tuple[float, int, str]] = []
        self._planned: dict[str, int] = {}  # job name -> sequence of its live heap entry
        self._running: set[str] = set()
        self._threads: set[Handle] = set()
        self._dispatch_started = -math.inf
        self._dispatch_began = True
        self._sequence = itertools.count()
        self._registry_version = -1

    # -- the request side ---------------------------------------------------------------

    def due(self) -> bool:
        """The fast path: may anything be due? One clock read and one comparison."""
        return self.monotonic() >= self.wake_at

    def check(self) -> None:
        """Called after a response: start a dispatcher thread if a job is due. Never
        blocks, never raises, and does nothing from inside lazycron's own threads or
        while another check of this process is under way."""
        if in_job_thread():
            return
        if not self._dispatching.acquire(blocking=False):
            self._notice_stuck_dispatcher()
            return
        handed_over = False
        try:
            self._last_check = self.monotonic()
            self.wake_at = self._last_check + self.check_interval
            if self._pop_ready(peek=True):
                self._dispatch_started, self._dispatch_began = self._last_check, False
                start_thread(self._dispatch_in_thread, "lazycron-dispatch")
                handed_over = True
            else:
                self._rearm()
        except Exception:
            self.problems.report("check", "lazycron: check failed", exc_info=True)
        finally:
            if not handed_over:
                self._dispatching.release()

    # -- planning -------------------------------------------------------------------------

    def _plan(self, name: str, due: float) -> None:
        """Put a job on the heap at ``due`` (caller holds the mutex)."""
        sequence = next(self._sequence)
        self._planned[name] = sequence
        heapq.heappush(self._heap, (due, sequence, name))

    def _sync_registry(self) -> None:
        """Jobs declared since we last looked are planned for "now" (their state will be
        read), jobs removed are forgotten. Caller holds the mutex."""
        if self._registry_version == self.registry.version:
            return
        self._registry_version = self.registry.version
        names = {job.name for job in self.registry}
        for name in names - self._planned.keys() - self._running:
            self._plan(name, -math.inf)
        for name in self._planned.keys() - names:
            del self._planned[name]

    def _pop_ready(self, *, peek: bool = False) -> list[str]:
        """Names whose planned time has come; with ``peek``, whether there are any."""
        now = self.clock.time()
        ready: list[str] = []
        with self._mutex:
            if self.runner.wall_clock_stepped_back():
                # A plan made while the wall clock was far ahead would wait until that
                # date: forget it, and read every job's state again.
                self._registry_version = -1
                self._planned.clear()
                self._heap.clear()
            self._sync_registry()
            while self._heap and self._heap[0][0] <= now + TICK_TOLERANCE:
                if peek:
                    return [self._heap[0][2]]
                _, sequence, name = heapq.heappop(self._heap)
                if self._planned.get(name) == sequence and name not in self._running:
                    del self._planned[name]
                    ready.append(name)
        return ready

    def _rearm(self) -> None:
        """Set ``wake_at`` from the earliest planned tick, never sooner than the throttle."""
        with self._mutex:
            earliest = self._heap[0][0] if self._heap else math.inf
        delay = min(max(earliest - self.clock.time() - TICK_TOLERANCE, 0.0), MAX_SLEEP)
        self.wake_at = max(self.monotonic() + delay, self._last_check + self.check_interval)

    # -- the dispatcher and job threads -----------------------------------------------------

    def _notice_stuck_dispatcher(self) -> None:
        """A dispatcher that was started but never began means this server does not run
        Python threads (uWSGI without --enable-threads). Say so once, clearly."""
        waited = self.monotonic() - self._dispatch_started
        if not self._dispatch_began and waited > STUCK_AFTER:
            self.problems.report(
                "threads",
                "lazycron: a background thread started %.0fs ago has not run yet, so no job "
                "can run in this process. This server is not running Python threads: under "
                "uWSGI add --enable-threads.",
                waited,
            )

    def _dispatch_in_thread(self) -> None:
        self._dispatch_began = True
        try:
            with lazycron_thread():
                self._dispatch()
        except Exception:
            self.problems.report("dispatch", "lazycron: dispatch failed", exc_info=True)
        finally:
            self._dispatching.release()

    def _dispatch(self, runs: list[tuple[str, Run]] | None = None) -> list[Handle]:
        names = self._pop_ready()
        retry_at = self.clock.time() + max(self.check_interval, MIN_RETRY)
        try:
            self.backend.prepare()
        except (OSError, ConfigurationError) as exc:
            self.problems.report(
                "prepare",
                "lazycron: cannot use state directory %s: %s. Jobs are paused and the site "
                "keeps serving; they resume by themselves once this is fixed.",
                self.backend.location,
                exc,
            )
            with self._mutex:
                for name in names:
                    self._plan(name, retry_at)
            self._rearm()
            return []
        self.problems.clear(
            "prepare", "lazycron: state directory %s is usable again", self.backend.location
        )

        started: list[Handle] = []
        for name in names:
            try:
                thread = self._dispatch_one(name, retry_at, runs)
            except Exception:
                # One job's surprise must not strand the others popped with it.
                self.problems.report(
                    ("dispatch", name), "lazycron: could not look at job %r", name, exc_info=True
                )
                with self._mutex:
                    self._plan(name, retry_at)
                continue
            if thread is not None:
                started.append(thread)
        self._rearm()
        return started

    def _dispatch_one(
        self, name: str, retry_at: float, runs: list[tuple[str, Run]] | None
    ) -> Handle | None:
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
                with self._mutex:
                    self._plan(name, result.next_due if result.next_due else retry_at)
                return None
        else:
            wait_until = self.runner.needs_attempt(job, state, now)
            if wait_until is not None:
                with self._mutex:
                    self._plan(name, wait_until)
                return None
            self._note_overrun(job, state, now)
        return self._spawn(job, runs)

    def _spawn(self, job: Job, runs: list[tuple[str, Run]] | None) -> Handle:
        with self._mutex:
            self._running.add(job.name)
        try:
            thread = start_thread(lambda: self._job_thread(job, runs), f"lazycron:{job.name}")
        except BaseException:
            with self._mutex:
                self._running.discard(job.name)
                self._plan(job.name, self.clock.time() + max(self.check_interval, MIN_RETRY))
            raise
        with self._mutex:
            # Finished threads are pruned here rather than by themselves, so wait_idle()
            # can still join a thread that is in its last few instructions.
            self._threads = {t for t in self._threads if t.is_alive()}
            self._threads.add(thread)
        return thread

    def _job_thread(self, job: Job, runs: list[tuple[str, Run]] | None) -> None:
        result = AttemptResult(Verdict.FAILED)
        try:
            with lazycron_thread():
                result = self.runner.attempt(job)
            if runs is not None and result.ran is not None:
                runs.append((job.name, result.ran))
        except Exception:
            logger.exception("lazycron: unexpected error while attempting job %r", job.name)
        finally:
            retry_at = self.clock.time() + max(self.check_interval, MIN_RETRY)
            # BUSY and FAILED carry no next_due: look again after the retry interval.
            due = result.next_due if result.next_due is not None else retry_at
            if result.verdict is Verdict.DONE:
                self.problems.clear(("overrun", job.name))
            with self._mutex:
                self._running.discard(job.name)
                if job.name in self.registry:
                    self._plan(job.name, due)
            self._rearm()

    def _note_overrun(self, job: Job, state: JobState, now: float) -> None:
        run = state.current
        if run is None or job.expected_duration is None:
            return
        if now - run.started > job.expected_duration:
            self.problems.report(
                ("overrun", job.name),
                "lazycron: job %r has been running for %.0fs (pid %s on %s), longer than its "
                "expected_duration of %gs",
                job.name,
                now - run.started,
                run.pid,
                run.host,
                job.expected_duration,
            )

    # -- synchronous entry points (the CLI, management commands, tests) --------------------

    def tick(self, timeout: float | None = None) -> list[tuple[str, Run]]:
        """Run whatever is due now, in this thread's process, and wait for it to finish.

        For sites that do have a system cron: ``* * * * * lazycron tick ...``. Returns the
        runs made.
        """
        self.backend.prepare()
        with self._dispatching:
            with self._mutex:
                # A one-off caller looks at every job, whatever this process planned.
                self._registry_version = -1
                self._planned.clear()
                self._heap.clear()
            runs: list[tuple[str, Run]] = []
            threads = self._dispatch(runs)
        for thread in threads:
            thread.join(timeout)
        return runs

    def run_now(self, name: str) -> AttemptResult:
        """Run one job now, under its lock, without consuming a scheduled tick.

        Returns a BUSY result if the job is running elsewhere.
        """
        job = self.registry.get(name)
        self.backend.prepare()
        with lazycron_thread():
            return self.runner.attempt(job, trigger="manual")

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Join the dispatcher and job threads started so far. For tests and commands."""
        with self._dispatching:
            pass
        with self._mutex:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in threads)

    def status(self, names: Iterable[str] | None = None) -> list[JobStatus]:
        now = self.clock.time()
        jobs = [self.registry.get(n) for n in names] if names else list(self.registry)
        result = []
        for job in jobs:
            state = self.runner.read(job)
            running = state.current if state else None
            overrunning = bool(
                running
                and job.expected_duration is not None
                and now - running.started > job.expected_duration
            )
            next_tick = self.runner.next_due(job, state) if state else None
            result.append(JobStatus(job, state, next_tick, running, overrunning))
        return result


def _after_fork_in_child() -> None:
    for scheduler in list(_schedulers):
        scheduler._reset_process_state()
        scheduler.problems.reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
