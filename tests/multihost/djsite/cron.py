"""The proof site's two jobs (as tests/integration/apps/cronsite.py declares them), found
by autodiscovery: ``fast`` every 1 s, ``slow`` every 2 s taking ``$SLOW_SLEEP`` s."""

from __future__ import annotations

import os
import time

import lazycron
from tests.apps.sitekit import append_line

LOG = os.environ.get("JOB_LOG", os.devnull)


def record(event: str, job: str) -> None:
    run = lazycron.current_run()
    tick = run.tick if run else -1.0
    append_line(LOG, f"{event} {job} {tick!r} {os.getpid()} {time.time()!r}\n")


@lazycron.job(every="1s", name="fast")
def fast() -> None:
    record("start", "fast")
    time.sleep(0.05)
    record("end", "fast")


@lazycron.job(every="2s", name="slow")
def slow() -> None:
    record("start", "slow")
    time.sleep(float(os.environ.get("SLOW_SLEEP", "2.5")))
    record("end", "slow")
