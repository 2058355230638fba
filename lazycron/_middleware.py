"""What the WSGI and ASGI middlewares share: how they get their scheduler."""

from __future__ import annotations

import os
from typing import Any

from .jobs import Registry
from .scheduler import Scheduler


class MiddlewareBase:
    """Keyword arguments are those of :class:`lazycron.Scheduler`; pass ``scheduler=`` to
    share one scheduler between several apps."""

    def __init__(
        self,
        app: Any,
        /,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        check_interval: float = 30.0,
        registry: Registry | None = None,
        scheduler: Scheduler | None = None,
        **options: Any,
    ) -> None:
        self.app = app
        self.scheduler = scheduler or Scheduler(
            registry, state_dir=state_dir, check_interval=check_interval, **options
        )
