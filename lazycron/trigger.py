"""The trigger URL and the health URL, for quiet sites and external pingers.

Framework-neutral: the WSGI and ASGI middlewares and the Django views hand a request's
method, ``Authorization`` header and query string to :meth:`Endpoints.tick` or
:meth:`Endpoints.health`, and send back the :class:`Answer`.

* **A token or nothing.** With no token configured (``token=``, ``LAZYCRON["TOKEN"]`` or
  ``$LAZYCRON_TOKEN``) the paths do not exist: the app answers them as it answers any
  unknown path. A token shorter than :data:`MIN_TOKEN_LENGTH` is refused at start-up;
  ``lazycron token`` prints a good one.
* **Authentication.** ``Authorization: Bearer <token>``, or ``?token=<token>`` for pingers
  that cannot set a header (weaker: a query string ends up in access logs and proxies).
  Compared with :func:`hmac.compare_digest`. Wrong or missing: 403, and nothing is done.
* **Rate limit.** At most one tick per second per process; more get 429 and
  ``Retry-After``.
* **What a tick does.** What a response does when a job may be due: a check. The jobs it
  starts run on their own threads; the answer (202) never waits for one. It names the
  jobs started and each job's next tick as this process plans it.
"""

from __future__ import annotations

import hmac
import math
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from . import health as health_check
from .errors import ConfigurationError

if TYPE_CHECKING:
    from .scheduler import Scheduler

__all__ = ["MIN_TOKEN_LENGTH", "RATE_LIMIT", "Answer", "Endpoints", "new_token", "resolve_token"]

MIN_TOKEN_LENGTH = 32
RATE_LIMIT = 1.0  # seconds between two ticks of one process
TOKEN_ENV = "LAZYCRON_TOKEN"


def new_token() -> str:
    """A fresh token: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def resolve_token(token: str | None) -> str | None:
    """The configured token (``token`` if given, else ``$LAZYCRON_TOKEN``), or ``None``.

    Raises :class:`ConfigurationError` for a token too short to resist guessing."""
    if token is None:
        token = os.environ.get(TOKEN_ENV) or None
        where = f"${TOKEN_ENV}"
    else:
        where = "the trigger token"
    if token is None:
        return None
    if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH:
        length = len(token) if isinstance(token, str) else type(token).__name__
        raise ConfigurationError(
            f"{where} is {length} characters long; it must be a string of at least "
            f"{MIN_TOKEN_LENGTH}, so that it cannot be guessed. `lazycron token` prints one"
        )
    return token


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return _REASONS.get(self.status, "")


_REASONS = {
    200: "OK",
    202: "Accepted",
    403: "Forbidden",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


class Endpoints:
    """The tick and health endpoints of one scheduler, behind one token."""

    def __init__(self, scheduler: Scheduler, token: str) -> None:
        self.scheduler = scheduler
        self._token = token.encode()
        self._lock = threading.Lock()
        self._last_tick = -math.inf

    def authorized(self, authorization: str | None, query_string: str) -> bool:
        offered = _bearer(authorization)
        if offered is None:
            values = parse_qs(query_string, keep_blank_values=True).get("token")
            offered = values[-1] if values else None
        if not offered:
            return False
        return hmac.compare_digest(offered.encode(), self._token)

    def tick(self, method: str, authorization: str | None, query_string: str) -> Answer:
        if method != "POST":
            return Answer(405, {"error": "use POST"}, {"Allow": "POST"})
        if not self.authorized(authorization, query_string):
            return Answer(403, {"error": "a valid token is required"})
        with self._lock:
            now = self.scheduler.monotonic()
            wait = self._last_tick + RATE_LIMIT - now
            if wait > 0:
                retry = str(max(1, math.ceil(wait)))
                return Answer(429, {"error": "at most one tick per second"}, {"Retry-After": retry})
            self._last_tick = now
        started = self.scheduler.check_now()
        planned = self.scheduler.plan.planned()
        return Answer(
            202,
            {
                "started": started,
                "jobs": [
                    {"name": job.name, "next_tick": _iso(planned.get(job.name))}
                    for job in self.scheduler.registry
                ],
            },
        )

    def health(self, method: str, authorization: str | None, query_string: str) -> Answer:
        if method not in {"GET", "HEAD"}:
            return Answer(405, {"error": "use GET"}, {"Allow": "GET, HEAD"})
        if not self.authorized(authorization, query_string):
            return Answer(403, {"error": "a valid token is required"})
        verdict = health_check.check(self.scheduler)
        return Answer(503 if verdict.code == health_check.CRITICAL else 200, verdict.as_dict())


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None or not math.isfinite(timestamp):
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
