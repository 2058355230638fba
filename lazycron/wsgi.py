"""WSGI middleware: check for due jobs after each response has been sent.

The decision is made when the app returns, in one clock read and one comparison. Only
when a check is due is the check attached to the response, and it runs from the
response's ``close()``, which servers call once the body has been handed over.
``close()`` may delay the next request on a keep-alive connection (and, on some servers,
the client itself), so all it does is start a thread.

Attaching the check must not change how the server sends the response, and servers
decide that from the response object itself:

* wsgiref and waitress add a Content-Length when ``len(response) == 1``;
* gunicorn and waitress send a file with ``sendfile`` (or their own file buffer) only
  when the response *is* their ``wsgi.file_wrapper`` (``isinstance``, or even an exact
  type test).

So a response of the server's file wrapper keeps its identity, with the check chained to
its own ``close``; a sized response keeps its ``len()``; anything else (a generator, a
framework's response) is wrapped, as none of this applies to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._adapter import AdapterBase
from .trigger import Answer

__all__ = ["LazyCronMiddleware"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class LazyCronMiddleware(AdapterBase):
    """Wrap a WSGI application: ``app = LazyCronMiddleware(app, state_dir="var/cron")``.

    Keyword arguments are those of :class:`lazycron.Scheduler`; pass ``scheduler=`` to
    share one scheduler between several apps.
    """

    app: WSGIApp

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.endpoints is not None and environ.get("PATH_INFO") in self.endpoint_paths:
            answer = self.endpoint(
                environ["PATH_INFO"],
                environ.get("REQUEST_METHOD", ""),
                environ.get("HTTP_AUTHORIZATION"),
                environ.get("QUERY_STRING", ""),
            )
            if answer is not None:
                return _send_answer(start_response, answer)
        response = self.app(environ, start_response)
        scheduler = self.scheduler
        if scheduler.monotonic() < scheduler.wake_at:  # the fast path: nothing may be due
            return response
        return check_after_close(response, scheduler.check, environ.get("wsgi.file_wrapper"))


def _send_answer(start_response: StartResponse, answer: Answer) -> list[bytes]:
    body = json.dumps(answer.body).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        *answer.headers.items(),
    ]
    start_response(f"{answer.status} {answer.reason}", headers)
    return [body]


def check_after_close(
    response: Iterable[bytes], check: Callable[[], None], file_wrapper: object
) -> Iterable[bytes]:
    """``response``, sent by the server exactly as it would have been, with ``check``
    called after its ``close()``."""
    if isinstance(file_wrapper, type) and isinstance(response, file_wrapper):
        # Made for this request by the server's own class, so chaining its close() cannot
        # pile up across requests.
        try:
            response.close = _chained(getattr(response, "close", None), check)  # type: ignore[attr-defined]
        except (AttributeError, TypeError):  # a wrapper with __slots__, say
            pass
        else:
            return response
    if hasattr(response, "__len__"):
        return _SizedCheckAfterClose(response, check)
    return _CheckAfterClose(response, check)


def _chained(close: Callable[[], object] | None, check: Callable[[], None]) -> Callable[[], None]:
    def close_then_check() -> None:
        try:
            if close is not None:
                close()
        finally:
            check()

    return close_then_check


class _CheckAfterClose:
    """The app's response, unchanged, with a check added after its ``close()``."""

    __slots__ = ("_check", "_response")

    def __init__(self, response: Iterable[bytes], check: Callable[[], None]) -> None:
        self._response = response
        self._check = check

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._response)

    def close(self) -> None:
        _chained(getattr(self._response, "close", None), self._check)()


class _SizedCheckAfterClose(_CheckAfterClose):
    """The same, for a response whose ``len()`` the server asks (a list of blocks)."""

    __slots__ = ()

    def __len__(self) -> int:
        return len(self._response)  # type: ignore[arg-type]
