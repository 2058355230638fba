"""The scheduler: the per-process fast path, in front of the plan and the dispatcher.

Per request, an adapter asks one question, after the response has gone out::

    scheduler.monotonic() >= scheduler.wake_at      # one clock read, one comparison

``wake_at`` is the earlier of "the next tick this process knows of" and nothing sooner
than ``check_interval`` after the last check (a monotonic time, so wall-clock jumps do
not matter). Only when it has passed does the adapter call :meth:`Scheduler.check`,
which starts at most one short-lived dispatcher thread and returns.

The work is split three ways: :mod:`lazycron._plan` knows when each job is next worth
looking at (no threads), :mod:`lazycron._dispatcher` runs the threads, and
:mod:`lazycron._reporting` says what ``lazycron status`` shows.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path

from ._dispatcher import MIN_RETRY, STUCK_AFTER, Dispatcher
from ._durations import Duration, parse_check_interval
from ._log import ProblemLog, logger
from ._plan import MAX_SLEEP, Plan
from ._reporting import JobStatus, announce, statuses
from ._threads import call_outside_event_loop
from .backends import Backend, FileBackend, default_state_dir, open_backend
from .backends.base import StateUnreadableError
from .clock import Clock, SystemClock
from .errors import ConfigurationError
from .hooks import check_hooks
from .jobs import Registry, default_registry
from .runner import AttemptResult, JobContext, Runner, Verdict, in_job_thread, lazycron_thread
from .schedules import resolve_timezone
from .state import Run

__all__ = [
    "DEFAULT_CHECK_INTERVAL",
    "MAX_SLEEP",
    "MIN_RETRY",
    "STUCK_AFTER",
    "JobStatus",
    "Scheduler",
]

# Only a throttle on reading state while a job may be due (an idle site's fast path is
# governed by the plan's wake-up, whatever this is): short enough that a job declared
# every few seconds runs at its rate, no shorter than the retry of a busy job.
DEFAULT_CHECK_INTERVAL = 1.0

# How often run_now tries again when its claim lost to a write, not to a running job.
MANUAL_RETRIES = 5

_schedulers: weakref.WeakSet[Scheduler] = weakref.WeakSet()


class Scheduler:
    """Decides, per process, when to look for due jobs, and runs them off the request.

    :param registry: the jobs; defaults to the one ``@lazycron.job`` fills.
    :param state_dir: where the file backend keeps state and locks; defaults to a
        private per-user, per-application directory (see :func:`default_state_dir`).
    :param backend: where job records live instead of ``state_dir``: a backend object, or
        a URL such as ``"redis://127.0.0.1:6379/0"`` (see :func:`lazycron.backends.open_backend`
        and docs/backends.md). Building it connects to nothing: only lazycron's own
        threads ever talk to the store.
    :param check_interval: each process reads state at most this often, and only when a
        job may be due: seconds, a ``timedelta`` or a string like ``"30s"`` (as
        ``every=``). 0 looks whenever a job may be due.
    :param timezone: the zone cron expressions are read in unless a job names its own.
    :param clock: an object with ``time()`` and ``monotonic()``; tests inject a fake.
    :param history_limit: how many past runs each job's state keeps.
    :param job_context: a callable ``(job) -> context manager`` wrapped around each run
        (the Django adapter closes stale database connections with it).
    :param hooks: objects with ``run_started(job, run)`` and/or ``run_finished(job, run)``
        methods, called on the job's thread (see :mod:`lazycron.hooks`).
    """

    wake_at: float  # monotonic; published by the plan, read by the adapters' fast path

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        backend: Backend | str | None = None,
        check_interval: Duration = DEFAULT_CHECK_INTERVAL,
        timezone: str | tzinfo = "UTC",
        clock: Clock | None = None,
        history_limit: int = 50,
        job_context: JobContext | None = None,
        hooks: Iterable[object] | None = None,
    ) -> None:
        interval = parse_check_interval(check_interval)
        if not isinstance(history_limit, int) or history_limit < 1:
            raise ConfigurationError(f"history_limit={history_limit!r} must be 1 or more")
        if backend is not None and state_dir is not None:
            raise ConfigurationError("give state_dir= or backend=, not both")
        zone = timezone if isinstance(timezone, tzinfo) else resolve_timezone(timezone)

        self.registry = registry if registry is not None else default_registry
        if backend is not None:
            self.backend: Backend = open_backend(backend)
        else:
            self.backend = FileBackend(
                Path(state_dir) if state_dir is not None else default_state_dir()
            )
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
            hooks=check_hooks(hooks),
        )
        self._check_interval = interval
        self._start_process()
        _schedulers.add(self)
        logger.debug("state in %s", self.backend.location)

    def _start_process(self) -> None:
        """Everything that belongs to one process. Rebuilt in a forked child, so no lock,
        thread or half-made plan is ever inherited across ``fork``."""
        self._pid = os.getpid()
        self._announced = False
        self.plan = Plan(self.registry, self._check_interval, self._publish)
        self.dispatcher = Dispatcher(self.plan, self.runner)

    def _publish(self, wake_at: float) -> None:
        self.wake_at = wake_at

    def _own_process(self) -> None:
        """A forked child starts afresh. Python's at-fork hook does this at once, but a
        server that forks from C (uWSGI without ``py-call-osafterfork``) never calls it,
        so every slow path compares the pid too (the fast path never does)."""
        if self._pid != os.getpid():
            self.problems.reset()
            self._start_process()

    @property
    def check_interval(self) -> float:
        return self._check_interval

    @check_interval.setter
    def check_interval(self, value: Duration) -> None:
        self._check_interval = self.plan.check_interval = parse_check_interval(value)

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
        try:
            self._own_process()
            if not self._announced:
                self._announced = True
                announce(self.registry, self.backend.location, self._check_interval)
        except Exception:
            self.problems.report("check", "check failed", exc_info=True)
            return
        self.dispatcher.check()

    def check_now(self) -> list[str]:
        """What the trigger URL does: a check now, on this thread, whatever the fast path
        says. Starts a thread for each due job and returns their names; never runs a job
        here and never waits for one (see :mod:`lazycron.trigger`)."""
        if in_job_thread():
            return []
        self._own_process()
        if not self._announced:
            self._announced = True
            announce(self.registry, self.backend.location, self._check_interval)
        return self.dispatcher.check_now()

    # -- synchronous entry points (the CLI, management commands, tests) --------------------

    def tick(self, timeout: float | None = None) -> list[tuple[str, Run]]:
        """Run whatever is due now, in this thread's process, and wait for it to finish.

        For sites that do have a system cron: ``* * * * * lazycron tick ...``. Returns the
        runs made.
        """
        self._own_process()
        self.backend.prepare()
        return self.dispatcher.run_due(timeout)

    def run_now(self, name: str) -> AttemptResult:
        """Run one job now, under its lock, without consuming a scheduled tick.

        Returns a BUSY result if the job is running elsewhere. From inside a running event
        loop (an async view or test), the job runs on a thread of its own, so that an
        async job gets an event loop of its own; the call still returns when it is done.
        """
        job = self.registry.get(name)
        self.backend.prepare()

        def attempt() -> AttemptResult:
            with lazycron_thread():
                result = self.runner.attempt(job, trigger="manual")
                for retry in range(1, MANUAL_RETRIES + 1):
                    # BUSY without a live lease: another process wrote the record between
                    # our read and our claim (a first sight, a skipped tick), or holds its
                    # lock for that write. Nothing is running, so try again shortly rather
                    # than report "running elsewhere".
                    if result.verdict is not Verdict.BUSY or self._running_elsewhere(name):
                        break
                    threading.Event().wait(0.02 * retry)
                    result = self.runner.attempt(job, trigger="manual")
                return result

        return call_outside_event_loop(attempt, f"lazycron:{name}")

    def _running_elsewhere(self, name: str) -> bool:
        try:
            snapshot = self.backend.read(name)
        except (OSError, StateUnreadableError):
            return False
        return snapshot is not None and snapshot.lease_live

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Join the dispatcher and job threads started so far. For tests and commands."""
        self._own_process()
        return self.dispatcher.wait_idle(timeout)

    def status(self, names: Iterable[str] | None = None) -> list[JobStatus]:
        """What ``lazycron status`` shows, one entry per job (every job by default)."""
        return statuses(self.registry, self.runner, self.clock.time(), names)


def _after_fork_in_child() -> None:
    for scheduler in list(_schedulers):
        scheduler._own_process()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
