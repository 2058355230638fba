"""ASGI middleware: check for due jobs once the final body message has been sent.

A pure ASGI middleware (no framework): non-HTTP scopes such as ``lifespan`` and
``websocket`` pass straight through, per-request state lives in a closure, and the check
only starts a thread. It never awaits the job, because the server would wait for it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._adapter import AdapterBase
from .trigger import Answer

__all__ = ["LazyCronMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LazyCronMiddleware(AdapterBase):
    """Wrap an ASGI application: ``app = LazyCronMiddleware(app, state_dir="var/cron")``.

    Keyword arguments are those of :class:`lazycron.Scheduler`.
    """

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.endpoints is not None
            and scope["type"] == "http"
            and scope.get("path") in self.endpoint_paths
        ):
            headers = dict(scope.get("headers") or [])
            authorization = headers.get(b"authorization")
            answer = self.endpoint(
                scope.get("path", ""),
                scope.get("method", ""),
                authorization.decode("latin-1") if authorization else None,
                (scope.get("query_string") or b"").decode("latin-1"),
            )
            if answer is not None:
                await _send_answer(send, answer)
                return
        scheduler = self.scheduler
        if scope["type"] != "http" or scheduler.monotonic() < scheduler.wake_at:
            await self.app(scope, receive, send)
            return

        async def send_then_check(message: Message) -> None:
            await send(message)
            if _is_final(message):
                scheduler.check()

        await self.app(scope, receive, send_then_check)


async def _send_answer(send: Send, answer: Answer) -> None:
    body = json.dumps(answer.body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in answer.headers.items()),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _is_final(message: Message) -> bool:
    """The last message of a response: a body or zero-copy send without ``more_body``, or
    a path send (which is always whole)."""
    kind = message["type"]
    if kind in ("http.response.body", "http.response.zerocopysend"):
        return not message.get("more_body", False)
    return bool(kind == "http.response.pathsend")
