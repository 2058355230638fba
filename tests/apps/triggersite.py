"""A WSGI site with one 2 s job and the trigger URL on, for the quiet-site test: the only
traffic is an external pinger POSTing the trigger URL. The job appends its tick and wall
time to ``$JOB_LOG``."""

from __future__ import annotations

import os
import time
from typing import Any

import lazycron
from lazycron.wsgi import LazyCronMiddleware

from .sitekit import append_line

LOG = os.environ.get("JOB_LOG", os.devnull)


@lazycron.job(every="2s", name="two-seconds")
def two_seconds() -> None:
    run = lazycron.current_run()
    append_line(LOG, f"{run.tick if run else -1.0!r} {time.time()!r}\n")


def site(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not here\n"]


application = LazyCronMiddleware(
    site, state_dir=os.environ["LAZYCRON_STATE_DIR"], token=os.environ["TRIGGER_TOKEN"]
)
