"""Starting lazycron's short-lived threads.

All of lazycron's threads are **daemon** threads, on purpose. A non-daemon thread
keeps a recycling worker alive: gunicorn would not start the replacement until its
``--timeout`` (a one-worker site serves nothing meanwhile), mod_wsgi and mod_python
would wait for their shutdown timeout. We choose the site's availability over finishing
a run: a run cut short by a worker exiting is left marked as running, and the next
check anywhere records it as *interrupted* (and re-runs it if the job opted in).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["in_short_lived_thread", "start_thread"]


class _ShortLivedThread(threading.Thread):
    """A thread lazycron started for one task; it ends when the task does."""


def start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = _ShortLivedThread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def in_short_lived_thread() -> bool:
    """Whether the current thread is one lazycron started (a job or dispatcher thread).

    A ``job_context`` uses it to tell per-thread resources that die with the thread (a
    database connection opened by a job thread must be closed, not kept for reuse) from
    those of a caller's thread (``run_now`` from a command or a test).
    """
    return isinstance(threading.current_thread(), _ShortLivedThread)
