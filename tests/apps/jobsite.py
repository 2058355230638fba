"""A tiny site with one job, configured by environment variables, for real-process tests.

The job appends ``start``/``end`` lines (tick, pid, wall time) to ``$JOB_LOG`` with
O_APPEND, so the tests judge lazycron by the job's own side effects, never by its
bookkeeping.
"""

from __future__ import annotations

import os
import time
from typing import Any

import lazycron
from lazycron.asgi import LazyCronMiddleware as ASGIMiddleware
from lazycron.wsgi import LazyCronMiddleware as WSGIMiddleware

LOG = os.environ.get("JOB_LOG", os.devnull)
SLEEP = float(os.environ.get("JOB_SLEEP", "0"))
BUSY = float(os.environ.get("JOB_BUSY", "0"))  # seconds of pure-Python CPU work
STATE_DIR = os.environ.get("LAZYCRON_STATE_DIR")
CHECK_INTERVAL = float(os.environ.get("CHECK_INTERVAL", "0"))
BODY = b"hello from lazycron's test site\n"


def record(event: str) -> None:
    run = lazycron.current_run()
    tick = run.tick if run else -1.0
    line = f"{event} {tick!r} {os.getpid()} {time.time()!r}\n".encode()
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@lazycron.job(
    every=float(os.environ.get("JOB_EVERY", "1")),
    name="sleeper",
    rerun_interrupted=os.environ.get("JOB_RERUN") == "1",
)
def sleeper() -> None:
    record("start")
    time.sleep(SLEEP)
    deadline = time.perf_counter() + BUSY
    while time.perf_counter() < deadline:
        pass
    record("end")


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]


async def asgi_hello(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


application = WSGIMiddleware(hello, state_dir=STATE_DIR, check_interval=CHECK_INTERVAL)
asgi_application = ASGIMiddleware(asgi_hello, state_dir=STATE_DIR, check_interval=CHECK_INTERVAL)


def read_log(path: str) -> list[tuple[str, float, int, float]]:
    """The job log as (event, tick, pid, time) tuples."""
    rows = []
    with open(path) as log:
        for line in log:
            event, tick, pid, when = line.split()
            rows.append((event, float(tick), int(pid), float(when)))
    return rows
