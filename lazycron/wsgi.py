"""WSGI middleware: check for due jobs after each response has been sent.

The decision is made when the app returns, in one clock read and one comparison. Only
when a check is due is the response iterable wrapped, and the check runs from the
wrapper's ``close()``, which servers call once the body has been handed over. ``close()``
may delay the next request on a keep-alive connection (and, on some servers, the client
itself), so all it does is start a thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._middleware import MiddlewareBase

__all__ = ["LazyCronMiddleware"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class LazyCronMiddleware(MiddlewareBase):
    """Wrap a WSGI application: ``app = LazyCronMiddleware(app, state_dir="var/cron")``.

    Keyword arguments are those of :class:`lazycron.Scheduler`; pass ``scheduler=`` to
    share one scheduler between several apps.
    """

    app: WSGIApp

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        response = self.app(environ, start_response)
        scheduler = self.scheduler
        if scheduler.monotonic() < scheduler.wake_at:  # the fast path: nothing may be due
            return response
        return _CheckAfterClose(response, scheduler.check)


class _CheckAfterClose:
    """The app's response, unchanged, with a check added after its ``close()``."""

    __slots__ = ("_check", "_response")

    def __init__(self, response: Iterable[bytes], check: Callable[[], None]) -> None:
        self._response = response
        self._check = check

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._response)

    def close(self) -> None:
        try:
            close = getattr(self._response, "close", None)
            if close is not None:
                close()
        finally:
            self._check()
