"""The process-wide scheduler, built from settings on first use.

One scheduler per process, shared by the middleware and the management command. It is
built lazily (never at import, so a forking server never inherits one half-made) and
dropped when ``LAZYCRON`` or ``TIME_ZONE`` change, so ``override_settings`` works.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connections

from .._context import in_short_lived_thread
from .._log import logger
from ..errors import LazyCronError
from ..jobs import Job, default_registry
from ..scheduler import Scheduler
from ..signals import SignalHooks
from . import discovery
from .conf import LazyCronSettings, get_settings, state_dir_of
from .store import configured_backend

__all__ = ["active_scheduler", "build_scheduler", "database_connections", "get_scheduler"]


@contextmanager
def database_connections(job: Job) -> Iterator[None]:
    """Wrapped around every run (the scheduler's ``job_context``).

    Before: drop a connection that went stale or past ``CONN_MAX_AGE``, as Django does
    at the start of a request. After: a job thread is about to end, and a connection it
    opened would otherwise stay open until garbage collection, whatever ``CONN_MAX_AGE``
    says, so close every connection of the thread. When the run happens on a caller's
    thread (``manage.py lazycron run``, ``run_now`` in a test) the connections belong to
    the caller: only the stale ones are closed, as after a request.
    """
    close_old_connections()
    try:
        yield
    finally:
        if in_short_lived_thread():
            connections.close_all()
        else:
            close_old_connections()


def build_scheduler(conf: LazyCronSettings | None = None, **overrides: Any) -> Scheduler:
    """A scheduler configured from settings; ``overrides`` are Scheduler arguments (tests
    pass ``clock=`` and ``registry=``). Raises ``ImproperlyConfigured``."""
    discovery.raise_for_failures()
    conf = conf or get_settings()
    options: dict[str, Any] = {
        "registry": default_registry,
        "check_interval": conf.check_interval,
        "history_limit": conf.history_limit,
        "timezone": conf.time_zone,
        "job_context": database_connections,
        "hooks": [SignalHooks()],  # lazycron.signals.run_started / run_finished
    }
    if "hooks" in overrides:
        overrides = {**overrides, "hooks": [*options["hooks"], *overrides["hooks"]]}
    try:
        if "backend" not in overrides:
            # LAZYCRON["BACKEND"] (Redis, the database), else files in STATE_DIR.
            backend = configured_backend(conf)
            if backend is None:
                options["state_dir"] = state_dir_of(conf)
            else:
                options["backend"] = backend
        options.update(overrides)
        return Scheduler(**options)
    except LazyCronError as exc:
        raise ImproperlyConfigured(f"lazycron: {exc}") from exc


_UNSET: Any = object()
_lock = threading.Lock()
_scheduler: Scheduler | None = None
# What the middleware uses: the scheduler, None while ENABLED is False, or _UNSET.
_active: Scheduler | None = _UNSET


def get_scheduler() -> Scheduler:
    """The process's scheduler, built on first use (whether or not ENABLED)."""
    global _scheduler  # noqa: PLW0603 - process-wide by design
    with _lock:
        if _scheduler is None:
            _scheduler = build_scheduler()
        return _scheduler


def active_scheduler(*, strict: bool = False) -> Scheduler | None:
    """The scheduler the middleware should use, or ``None`` when lazycron is disabled.

    After the first call this is one global read. With ``strict`` (the middleware at
    start-up) a configuration error raises; otherwise (from a request, after a settings
    change in a test) it is logged and lazycron stays off until the settings change.
    """
    active = _active
    if active is not _UNSET:
        return active
    return _activate(strict)


def _activate(strict: bool) -> Scheduler | None:
    global _active  # noqa: PLW0603
    try:
        active = get_scheduler() if get_settings().enabled else None
    except ImproperlyConfigured:
        if strict:
            raise
        logger.error("disabled by a configuration error", exc_info=True)
        active = None
    _active = active
    return active


def install(scheduler: Scheduler | None) -> None:
    """Use ``scheduler`` (e.g. one with a fake clock) until the next reset. For tests."""
    global _scheduler, _active  # noqa: PLW0603
    with _lock:
        _scheduler = scheduler
        _active = scheduler if scheduler is not None else _UNSET


def reset() -> None:
    """Forget the scheduler; the next use builds one from the current settings."""
    install(None)
