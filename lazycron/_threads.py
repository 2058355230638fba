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

__all__ = ["start_thread"]


def start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
