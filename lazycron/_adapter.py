"""What the WSGI and ASGI middlewares share: how they get their scheduler."""

from __future__ import annotations

import os
from datetime import tzinfo
from typing import Any

from ._durations import Duration
from .backends import Backend
from .clock import Clock
from .jobs import Registry
from .runner import JobContext
from .scheduler import DEFAULT_CHECK_INTERVAL, Scheduler


class AdapterBase:
    """Builds the scheduler of a WSGI or ASGI middleware from its keyword arguments.

    The keyword arguments are those of :class:`lazycron.Scheduler`, spelled out so that a
    typo is a ``TypeError`` at start-up and a type checker sees them. Pass ``scheduler=``
    instead to share one scheduler between several apps.
    """

    def __init__(
        self,
        app: Any,
        *,
        scheduler: Scheduler | None = None,
        registry: Registry | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        backend: Backend | str | None = None,
        check_interval: Duration = DEFAULT_CHECK_INTERVAL,
        timezone: str | tzinfo = "UTC",
        clock: Clock | None = None,
        history_limit: int = 50,
        job_context: JobContext | None = None,
    ) -> None:
        self.app = app
        self.scheduler = scheduler or Scheduler(
            registry,
            state_dir=state_dir,
            backend=backend,
            check_interval=check_interval,
            timezone=timezone,
            clock=clock,
            history_limit=history_limit,
            job_context=job_context,
        )
