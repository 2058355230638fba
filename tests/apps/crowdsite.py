"""A site with many long jobs and one quick one, for the thread-starvation test.

``$LONG_JOBS`` jobs sleep ``$LONG_SLEEP`` seconds each, every second; the job ``quick``
runs every second and appends the wall time of each run to ``$JOB_LOG``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import lazycron
from lazycron.wsgi import LazyCronMiddleware

from .sitekit import append_line

LOG = os.environ.get("JOB_LOG", os.devnull)
LONG_SLEEP = float(os.environ.get("LONG_SLEEP", "8"))

registry = lazycron.Registry()


def long_job() -> None:
    time.sleep(LONG_SLEEP)


for number in range(int(os.environ.get("LONG_JOBS", "12"))):
    lazycron.job(every=1, name=f"long{number}", registry=registry)(long_job)


@lazycron.job(every=1, name="quick", registry=registry)
def quick() -> None:
    append_line(LOG, f"{time.time()!r}\n")


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello\n"]


application = LazyCronMiddleware(
    hello, registry=registry, state_dir=os.environ.get("LAZYCRON_STATE_DIR"), check_interval=0
)
