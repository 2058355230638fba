"""What the WSGI and ASGI middlewares share: how they get their scheduler."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

from ._durations import Duration
from .backends import Backend
from .clock import Clock
from .jobs import Registry
from .runner import JobContext
from .scheduler import DEFAULT_CHECK_INTERVAL, Scheduler
from .trigger import Answer, Endpoints, resolve_token

DEFAULT_TRIGGER_PATH = "/_lazycron/tick"
DEFAULT_HEALTH_PATH = "/_lazycron/health"


class AdapterBase:
    """Builds the scheduler of a WSGI or ASGI middleware from its keyword arguments.

    The keyword arguments are those of :class:`lazycron.Scheduler`, spelled out so that a
    typo is a ``TypeError`` at start-up and a type checker sees them. Pass ``scheduler=``
    instead to share one scheduler between several apps.

    ``token=`` (or ``$LAZYCRON_TOKEN``) turns on the trigger URL, ``POST trigger_path``,
    and the health URL, ``GET health_path`` (see :mod:`lazycron.trigger`). Without a
    token both paths go to the app like any other.
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
        hooks: Iterable[object] | None = None,
        token: str | None = None,
        trigger_path: str = DEFAULT_TRIGGER_PATH,
        health_path: str = DEFAULT_HEALTH_PATH,
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
            hooks=hooks,
        )
        resolved = resolve_token(token)
        self.endpoints = Endpoints(self.scheduler, resolved) if resolved else None
        self.trigger_path = trigger_path
        self.health_path = health_path
        # Looked up before anything else is read from the request, so an app's own
        # requests pay one membership test, and nothing at all without a token.
        self.endpoint_paths = frozenset({trigger_path, health_path})

    def endpoint(
        self, path: str, method: str, authorization: str | None, query_string: str
    ) -> Answer | None:
        """The answer of the trigger or health URL, or ``None``: the app's request."""
        if self.endpoints is None:
            return None
        if path == self.trigger_path:
            return self.endpoints.tick(method, authorization, query_string)
        if path == self.health_path:
            return self.endpoints.health(method, authorization, query_string)
        return None
