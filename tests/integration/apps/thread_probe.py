"""A WSGI + ASGI app that starts a short-lived thread per request, as lazycron will.

Each request starts a daemon thread that sleeps ``PROBE_SLEEP`` seconds (default 0.05) and
then appends ``thread <pid>`` to the file named by ``HELLO_LOG``. ``/ready`` starts none.
Standard library only.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any


def _job() -> None:
    time.sleep(float(os.environ.get("PROBE_SLEEP", "0.05")))
    log = os.environ["HELLO_LOG"]
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, f"thread {os.getpid()}\n".encode())
    finally:
        os.close(fd)


def _start(path: str) -> bytes:
    if not path.endswith("/ready"):
        threading.Thread(target=_job, name="probe", daemon=True).start()
    return f"started from {os.getpid()}\n".encode()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = _start(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


async def asgi_app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return  # no lifespan support needed: uvicorn falls back to "off"
    body = _start(scope["path"])
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
