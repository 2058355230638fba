"""The one thread-local lazycron keeps: what the current thread is doing for lazycron.

* ``inside``: lazycron's own code is running on this thread (a dispatcher, a job, or a
  ``run_now`` in the caller's thread), so a check must never be triggered from here;
* ``short_lived``: lazycron started this thread and it ends with its work, so per-thread
  resources (a job's database connection) die with it and must be closed, not kept:
  ``at_thread_end`` registers what closes them, and the thread calls it as it ends;
* ``run``: inside a job, the run being made (see :func:`lazycron.current_run`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ._log import logger

if TYPE_CHECKING:
    from .state import Run

__all__ = [
    "at_thread_end",
    "current_run",
    "end_short_lived",
    "in_lazycron_thread",
    "in_short_lived_thread",
    "lazycron_thread",
    "mark_short_lived",
    "running",
]

_local = threading.local()


def in_lazycron_thread() -> bool:
    return getattr(_local, "inside", False)


@contextlib.contextmanager
def lazycron_thread() -> Iterator[None]:
    """Marks the current thread as lazycron's own while the block runs."""
    previous = in_lazycron_thread()
    _local.inside = True
    try:
        yield
    finally:
        _local.inside = previous


def mark_short_lived() -> None:
    """Called first thing on a thread lazycron started; the mark lives as long as it."""
    _local.short_lived = True
    _local.at_end = []


def in_short_lived_thread() -> bool:
    return getattr(_local, "short_lived", False)


def at_thread_end(close: Callable[[], None]) -> None:
    """On a thread lazycron started: call ``close`` when the thread's work is done (in
    that thread, so a resource bound to it can be closed). Elsewhere: a no-op."""
    if in_short_lived_thread():
        _local.at_end.append(close)


def end_short_lived() -> None:
    """Called last thing on a thread lazycron started: run what ``at_thread_end`` asked
    for, newest first. Each one runs whatever the others do; none may raise."""
    callbacks, _local.at_end = getattr(_local, "at_end", []), []
    for close in reversed(callbacks):
        try:
            close()
        except Exception:  # closing is a courtesy: a thread's end must never fail
            logger.debug("closing a resource of a finished thread failed", exc_info=True)


def current_run() -> Run | None:
    """Inside a job: the run being made (its tick, trigger, lateness). Else ``None``."""
    return getattr(_local, "run", None)


@contextlib.contextmanager
def running(run: Run) -> Iterator[None]:
    """Makes ``run`` the current run while a job executes on this thread."""
    _local.run = run
    try:
        yield
    finally:
        _local.run = None
