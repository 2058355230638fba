"""What the test sites share: an append-only run log and a tiny ASGI responder.

Imported by sites that servers load from their path (Debian's embedded Python too), so it
uses only the standard library.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def append_line(path: str, line: str) -> None:
    """One ``write()`` on an O_APPEND descriptor: lines from many processes never mix."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


async def asgi_respond(
    scope: dict[str, Any], receive: Receive, send: Send, body: bytes, *, length: bool = True
) -> None:
    """Answer ``lifespan`` politely and HTTP with ``body`` (with a Content-Length or not)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    headers = [(b"content-type", b"text/plain")]
    if length:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
