"""Django middleware: check for due jobs once each response has been sent.

``MIDDLEWARE = ["lazycron.middleware.LazyCronMiddleware", ...]``. Its position does not
matter: it does nothing before the view, and after it only decides, in one clock read
and one comparison, whether a check is due. When one is, the check is attached to the
response's closing. Servers call ``response.close()`` once the body is handed over
(WSGI: the server, through the response iterable; ASGI: Django, in a worker thread,
after the last body chunk), and the check only starts a thread. Both sync and async
capable, so it never forces a sync/async switch onto the request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from . import runtime

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.http.response import HttpResponseBase

__all__ = ["LazyCronMiddleware"]


class LazyCronMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: (
            Callable[[HttpRequest], HttpResponseBase]
            | Callable[[HttpRequest], Awaitable[HttpResponseBase]]
        ),
    ) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
        # Fail at server start-up, not in a request: a missing app, a broken LAZYCRON
        # setting or a job declared with errors raises ImproperlyConfigured here.
        _require_app()
        runtime.active_scheduler(strict=True)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.__acall__(request)
        # Sync mode, sync chain. A cast, not an assert: isinstance() against the Awaitable
        # ABC costs ~180 ns, a quarter of this middleware's fast path (BENCHMARKS.md §1).
        response = cast("HttpResponseBase", self.get_response(request))
        _after(response)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        result = self.get_response(request)
        assert isinstance(result, Awaitable)
        response = await result
        _after(response)
        return response


def _require_app() -> None:
    """Without the app, no ``cron.py`` is imported and no check runs: the middleware
    would serve forever with no job. Say so at start-up instead."""
    if not apps.is_installed("lazycron"):
        raise ImproperlyConfigured(
            'lazycron: the middleware is in MIDDLEWARE but "lazycron" is not in '
            "INSTALLED_APPS, so no cron.py would ever be imported and no job would run; "
            'add "lazycron" to INSTALLED_APPS: INSTALLED_APPS = [..., "lazycron"]'
        )


def _after(response: HttpResponseBase) -> None:
    """Decide now, check later. Nothing here reads a file or touches the database."""
    scheduler = runtime.active_scheduler()
    if scheduler is None or not scheduler.due():
        return
    # Response closers run inside response.close(), which servers call after sending.
    # A private list, but the one Django itself uses (since 3.0) to close files and
    # requests; request_finished would cost a receiver call on every request instead.
    response._resource_closers.append(scheduler.check)  # type: ignore[attr-defined]
