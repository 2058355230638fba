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

from .sitekit import append_line, asgi_respond

LOG = os.environ.get("JOB_LOG", os.devnull)
SLEEP = float(os.environ.get("JOB_SLEEP", "0"))
BUSY = float(os.environ.get("JOB_BUSY", "0"))  # seconds of pure-Python CPU work
STATE_DIR = os.environ.get("LAZYCRON_STATE_DIR")
CHECK_INTERVAL = float(os.environ.get("CHECK_INTERVAL", "0"))
BODY = b"hello from lazycron's test site\n"


def record(event: str) -> None:
    run = lazycron.current_run()
    tick = run.tick if run else -1.0
    append_line(LOG, f"{event} {tick!r} {os.getpid()} {time.time()!r}\n")


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
    await asgi_respond(scope, receive, send, BODY)


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
