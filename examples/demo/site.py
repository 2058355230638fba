"""The demo site: a plain WSGI app with three jobs, wrapped in lazycron's middleware.

Each job appends one line per run to $DEMO_LOG (job, tick, start, end, pid), so the demo
can show what ran, when and where, from the jobs' own side effects.
"""

from __future__ import annotations

import os
import time
from typing import Any

import lazycron
from lazycron.wsgi import LazyCronMiddleware

LOG = os.environ.get("DEMO_LOG", os.devnull)


def log_run(name: str, work: float = 0.0) -> None:
    run = lazycron.current_run()
    started = time.time()
    time.sleep(work)
    tick = run.tick if run else float("nan")
    # the same line as the Django example site's run log: job, tick, start, end, pid
    line = f"{name}\t{tick:.3f}\t{started:.3f}\t{time.time():.3f}\t{os.getpid()}\n"
    with open(LOG, "a") as log:  # one short append per run
        log.write(line)


@lazycron.job(every="2s", name="heartbeat")
def heartbeat() -> None:
    log_run("heartbeat")


@lazycron.job("* * * * * */5", seconds=True, name="every-5s-cron")  # 6th field = seconds
def every_five_seconds() -> None:
    log_run("every-5s-cron")


@lazycron.job(every="3s", name="slow-report", expected_duration="2s")
def slow_report() -> None:
    log_run("slow-report", work=1.5)  # a slow job never holds back the others


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = b"Hello! Jobs run after this response has been sent.\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


# $LAZYCRON_BACKEND (a redis:// URL) shares job records between hosts (make
# demo-multihost); without it the workers of this one machine share a state directory.
where: dict[str, Any] = (
    {"backend": os.environ["LAZYCRON_BACKEND"]}
    if os.environ.get("LAZYCRON_BACKEND")
    else {"state_dir": os.environ.get("LAZYCRON_STATE_DIR", "var/lazycron-demo")}
)
application = LazyCronMiddleware(
    hello, check_interval=float(os.environ.get("CHECK_INTERVAL", "1")), **where
)
