"""A tiny WSGI + ASGI app for the server harness smoke tests.

Every request appends one line, ``pid <pid>``, to the file named by the ``HELLO_LOG``
environment variable (if set), and answers ``hello from <pid>``. Requests for ``/ready`` (the
harness's readiness probe) are answered but not logged. The file is loaded by each
server from its path, never imported by pytest, so it uses only the standard library.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

StartResponse = Callable[..., Any]


def _record(path: str) -> bytes:
    pid = os.getpid()
    log = os.environ.get("HELLO_LOG")
    if log and not path.endswith("/ready"):
        # One write() on an O_APPEND descriptor: lines from many processes never interleave.
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, f"pid {pid}\n".encode())
        finally:
            os.close(fd)
    return f"hello from {pid}\n".encode()


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    body = _record(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


# Alias for servers whose configs default to "app" (mod_python examples, flup runner).
app = application


async def asgi_app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    body = _record(scope["path"])
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
