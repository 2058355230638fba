"""Starting lazycron's short-lived threads, the right kind for the server we are in.

All of lazycron's threads are **daemon** threads, on purpose. A non-daemon thread
keeps a recycling worker alive: gunicorn would not start the replacement until its
``--timeout`` (a one-worker site serves nothing meanwhile), mod_wsgi and mod_python
would wait for their shutdown timeout. We choose the site's availability over finishing
a run: a run cut short by a worker exiting is left marked as running, and the next
check anywhere records it as *interrupted* (and re-runs it if the job opted in). The
reasoning: docs/design.md#why-daemon-threads.

Two servers need care:

* **gevent** workers monkey-patch ``threading`` into greenlets, so a "thread" would run
  on the worker's event loop and a CPU-busy job would stall every request of that
  worker. Under gevent we run on a real OS thread from the hub's thread pool.
* **uWSGI** started without ``--enable-threads`` may never run Python threads (older
  releases did not; 2.0.31 did). We warn once at the first thread we start, and the
  scheduler reports a dispatcher that never began (see ``Scheduler.check``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from ._context import in_short_lived_thread, mark_short_lived
from ._log import logger

__all__ = ["Handle", "in_short_lived_thread", "start_thread"]


class Handle(Protocol):
    """What the scheduler needs of a started thread."""

    def is_alive(self) -> bool: ...

    def join(self, timeout: float | None = None) -> None: ...


class _PoolHandle:
    """A job on gevent's thread pool, shaped like a ``threading.Thread``."""

    def __init__(self, result: Any) -> None:
        self._result = result

    def is_alive(self) -> bool:
        return not self._result.ready()

    def join(self, timeout: float | None = None) -> None:
        self._result.wait(timeout)


_warned_uwsgi = False
# in_short_lived_thread (re-exported): whether lazycron started the current thread. A
# ``job_context`` uses it to tell per-thread resources that die with the thread (a job
# thread's database connection must be closed) from those of a caller's thread (run_now).


def start_thread(target: Callable[[], None], name: str) -> Handle:
    def marked() -> None:
        mark_short_lived()
        target()

    if _gevent_patched():
        import gevent

        return _PoolHandle(gevent.get_hub().threadpool.spawn(marked))
    _warn_if_uwsgi_without_threads()
    thread = threading.Thread(target=marked, name=name, daemon=True)
    thread.start()
    return thread


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("threading"))


def uwsgi_threads_disabled() -> bool:
    """True inside a uWSGI process whose Python threads are off (no ``--enable-threads``).

    ``uwsgi.has_threads`` says what uWSGI actually did: 2.0.31 turns threads on by itself,
    2.0.21 does not. Without it, read the options: their values are bytes from an ini file
    (``enable-threads = false`` is present but off) and ``True`` from a bare flag.
    """
    uwsgi = sys.modules.get("uwsgi")
    has_threads = getattr(uwsgi, "has_threads", None)
    if isinstance(has_threads, int):
        return not has_threads
    options = getattr(uwsgi, "opt", None)
    if not isinstance(options, dict):
        return False
    return not any(
        _uwsgi_option_on(options.get(key))
        for key in ("enable-threads", b"enable-threads", "threads", b"threads")
    )


def _uwsgi_option_on(value: object) -> bool:
    if isinstance(value, list):  # an option given more than once: the last one wins
        value = value[-1] if value else None
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, str):
        return value.strip().lower() not in {"", "0", "false", "no", "off"}
    return bool(value)


def _warn_if_uwsgi_without_threads() -> None:
    global _warned_uwsgi  # noqa: PLW0603 - one warning per process, by design
    if _warned_uwsgi or not uwsgi_threads_disabled():
        return
    _warned_uwsgi = True
    logger.warning(
        "lazycron: uWSGI was started without --enable-threads, so Python threads only "
        "move while this worker serves a request (or never): jobs run late and stall "
        "when traffic stops. Add --enable-threads (or `enable-threads = true` in uwsgi.ini)."
    )
