"""The trigger and health views (:mod:`lazycron.trigger` does the work).

With no token in ``LAZYCRON["TOKEN"]`` or ``$LAZYCRON_TOKEN`` they answer 404, as if the
URLs were not there. The endpoints (and their rate limit) are made once per scheduler."""

from __future__ import annotations

import threading
import weakref

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..scheduler import Scheduler
from ..trigger import Answer, Endpoints, resolve_token
from . import runtime
from .conf import get_settings

__all__ = ["health", "tick"]

_made: weakref.WeakKeyDictionary[Scheduler, Endpoints | None] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _endpoints() -> Endpoints:
    scheduler = runtime.get_scheduler()
    with _lock:
        if scheduler not in _made:
            token = resolve_token(get_settings().token)
            _made[scheduler] = Endpoints(scheduler, token) if token else None
        endpoints = _made[scheduler]
    if endpoints is None:
        raise Http404("no lazycron token is configured")
    return endpoints


def _respond(answer: Answer) -> HttpResponse:
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def _request_parts(request: HttpRequest) -> tuple[str, str | None, str]:
    return (
        request.method or "",
        request.headers.get("Authorization"),
        request.META.get("QUERY_STRING", ""),
    )


@csrf_exempt
def tick(request: HttpRequest) -> HttpResponse:
    return _respond(_endpoints().tick(*_request_parts(request)))


@csrf_exempt
def health(request: HttpRequest) -> HttpResponse:
    return _respond(_endpoints().health(*_request_parts(request)))
