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
  worker. Under gevent we start a real OS thread with the unpatched ``_thread`` module.
  Not one from the hub's thread pool: it has 10 threads, so ten long jobs would starve
  every other job of that worker (and the application's own use of the pool).
* **uWSGI** started without ``--enable-threads`` may never run Python threads (older
  releases did not; 2.0.31 did). We warn once at the first thread we start, and the
  scheduler reports a dispatcher that never began (see ``Scheduler.check``).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from ._context import end_short_lived, mark_short_lived
from ._log import logger

__all__ = ["Handle", "call_outside_event_loop", "start_thread"]

T = TypeVar("T")


class Handle(Protocol):
    """What the scheduler needs of a started thread."""

    def is_alive(self) -> bool: ...

    def join(self, timeout: float | None = None) -> None: ...


class _NativeHandle:
    """A real OS thread started under gevent, shaped like a ``threading.Thread``.

    Its end is signalled with an unpatched lock: a patched one would belong to the hub
    of whichever thread made it.
    """

    def __init__(self, allocate_lock: Callable[[], Any]) -> None:
        self._running = allocate_lock()
        self._running.acquire()

    def finished(self) -> None:
        self._running.release()

    def is_alive(self) -> bool:
        return bool(self._running.locked())

    def join(self, timeout: float | None = None) -> None:
        if self._running.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            self._running.release()


_warned_uwsgi = False


def start_thread(target: Callable[[], None], name: str) -> Handle:
    def marked() -> None:
        mark_short_lived()
        try:
            target()
        finally:
            end_short_lived()

    if _gevent_patched():
        return _start_native_thread(marked)
    _warn_if_uwsgi_without_threads()
    thread = threading.Thread(target=marked, name=name, daemon=True)
    thread.start()
    return thread


def _start_native_thread(target: Callable[[], None]) -> Handle:
    from gevent.monkey import get_original

    start_new_thread, allocate_lock = get_original("_thread", ["start_new_thread", "allocate_lock"])
    handle = _NativeHandle(allocate_lock)

    def run() -> None:
        try:
            target()
        finally:
            handle.finished()

    start_new_thread(run, ())
    return handle


def call_outside_event_loop(function: Callable[[], T], name: str) -> T:
    """``function()``, here; or, if this thread runs an event loop (an async view or
    test), on a thread of its own, waited for, so that it may run an event loop too."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def call() -> None:
        try:
            outcome.append(function())
        except BaseException as exc:  # raised in the caller, as if it ran there
            failure.append(exc)

    start_thread(call, name).join()
    if failure:
        raise failure[0]
    return outcome[0]


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
        "uWSGI was started without --enable-threads, so Python threads only "
        "move while this worker serves a request (or never): jobs run late and stall "
        "when traffic stops. Add --enable-threads (or `enable-threads = true` in uwsgi.ini)."
    )
