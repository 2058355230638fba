"""Hooks and pings: telling someone that a run started and how it ended.

Three sources, called in this order on the job's own thread (never on a request):

* the job's ``on_success=`` / ``on_failure=`` callables, ``f(job, run)``;
* its ``ping=`` URL, healthchecks.io style: ``GET <url>/start`` when a run starts,
  ``GET <url>`` when it succeeds, ``GET <url>/fail`` when it fails. Each ping is sent from
  a thread of its own with a 5 s timeout, so neither a slow target nor a hanging one
  holds the job back;
* the scheduler's ``hooks=``: objects with a ``run_started(job, run)`` and/or a
  ``run_finished(job, run)`` method (Django's signals are sent by one of these).

A hook's exception, or a ping's failure, is logged and goes no further: it never reaches
the job, the outcome that is recorded, or a request.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ._log import logger
from ._threads import start_thread
from .errors import ConfigurationError
from .jobs import Job
from .state import Run

__all__ = [
    "PING_TIMEOUT",
    "check_hooks",
    "ping",
    "run_finished",
    "run_started",
    "wait_for_pings",
]

PING_TIMEOUT = 5.0
_METHODS = ("run_started", "run_finished")


def check_hooks(hooks: Iterable[object] | None) -> tuple[object, ...]:
    """``hooks=`` as given to the scheduler, checked at start-up."""
    if hooks is None:
        return ()
    if isinstance(hooks, str | bytes) or not isinstance(hooks, Iterable):
        raise ConfigurationError(
            f"hooks= takes a list of objects with run_started(job, run) and/or "
            f"run_finished(job, run) methods, not {type(hooks).__name__}"
        )
    checked = tuple(hooks)
    for hook in checked:
        if not any(callable(getattr(hook, name, None)) for name in _METHODS):
            raise ConfigurationError(
                f"hooks=: {hook!r} has neither a run_started(job, run) nor a "
                f"run_finished(job, run) method"
            )
    return checked


def run_started(job: Job, run: Run, hooks: Sequence[object]) -> None:
    if job.ping:
        ping(job, job.ping.rstrip("/") + "/start")
    _each(hooks, "run_started", job, run)


def run_finished(job: Job, run: Run, hooks: Sequence[object]) -> None:
    callback = job.on_success if run.outcome == "ok" else job.on_failure
    if callback is not None:
        _call(callback, job, run, "on_success" if run.outcome == "ok" else "on_failure")
    if job.ping:
        base = job.ping.rstrip("/")
        ping(job, base if run.outcome == "ok" else base + "/fail")
    _each(hooks, "run_finished", job, run)


def _each(hooks: Sequence[object], method: str, job: Job, run: Run) -> None:
    for hook in hooks:
        function = getattr(hook, method, None)
        if callable(function):
            _call(function, job, run, f"{hook!r}.{method}")


def _call(function: Callable[..., Any], job: Job, run: Run, label: str) -> None:
    try:
        function(job, run)
    except Exception:
        logger.exception("hook %s of job %r raised; ignored", label, job.name)


_last_ping: dict[str, Any] = {}
_last_ping_lock = threading.Lock()


def ping(job: Job, url: str) -> None:
    """GET ``url`` from a thread of its own, after the job's previous ping (so a target
    sees ``/start`` before the outcome); a failure is logged as a warning."""

    def send() -> None:
        if previous is not None:
            previous.join(PING_TIMEOUT + 1)
        try:
            with urllib.request.urlopen(url, timeout=PING_TIMEOUT) as response:
                response.read(1024)
        except Exception as exc:
            logger.warning("ping %s of job %r failed: %s", url, job.name, exc)

    with _last_ping_lock:
        previous = _last_ping.get(job.name)
        _last_ping[job.name] = start_thread(send, f"lazycron-ping:{job.name}")


def wait_for_pings(timeout: float = PING_TIMEOUT + 1) -> None:
    """Wait for the pings sent so far (a command that ran a job, before it exits: ping
    threads are daemons, and would die with the process)."""
    with _last_ping_lock:
        handles = list(_last_ping.values())
    for handle in handles:
        handle.join(timeout)
