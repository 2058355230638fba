"""The job every benchmark site runs, configured by environment variables.

``JOB_SLEEP`` seconds of sleep, then ``JOB_BUSY`` seconds of pure-Python CPU work (which
holds the GIL), and two lines per run appended to ``$JOB_LOG``:
``start|end <scheduler> <tick or -1> <pid> <start time> [<end time>]`` (a run whose
process was stopped mid-way has only its start line). The benchmarks judge every scheduler
by these side effects, never by its own bookkeeping.
"""

from __future__ import annotations

import os
import time

LOG = os.environ.get("JOB_LOG", os.devnull)
EVERY = float(os.environ.get("JOB_EVERY", "3600"))
SLEEP = float(os.environ.get("JOB_SLEEP", "0"))
BUSY = float(os.environ.get("JOB_BUSY", "0"))
CHECK_INTERVAL = float(os.environ.get("CHECK_INTERVAL", "30"))
STATE_DIR = os.environ.get("LAZYCRON_STATE_DIR")
BODY = b"Hello, world!\n"


def work(scheduler: str, tick: float = -1.0) -> None:
    started = time.time()
    append(f"start {scheduler} {tick!r} {os.getpid()} {started!r}\n")
    if SLEEP:
        time.sleep(SLEEP)
    deadline = time.perf_counter() + BUSY
    while time.perf_counter() < deadline:
        pass
    append(f"end {scheduler} {tick!r} {os.getpid()} {started!r} {time.time()!r}\n")


def append(line: str) -> None:
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def lazycron_job() -> None:
    import lazycron

    run = lazycron.current_run()
    work("lazycron", run.tick if run else -1.0)
