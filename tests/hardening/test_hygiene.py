"""Hygiene: 100,000 requests with jobs firing leave no threads, file descriptors or memory
behind: the check starts at most short-lived threads
(docs/design.md#after-the-response-off-the-request, docs/design.md#a-cheap-fast-path).

The WSGI middleware is called in-process with check_interval=0 and a job due every fake
second; the fake clock moves 10 ms per request, so about a thousand runs happen.
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lazycron
from lazycron.testing import FakeClock
from lazycron.wsgi import LazyCronMiddleware

from ._tools import tmpfs

REQUESTS = 100_000


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [b"ok"]


def lazycron_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("lazycron")]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Counting(logging.Handler):
    """Counts records without keeping them (pytest's capture keeps every record, and
    each failure's traceback, which would swamp the measurement)."""

    def __init__(self) -> None:
        super().__init__()
        self.errors = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.errors += record.levelno >= logging.ERROR


@pytest.fixture
def fast_state_dir(state_dir: Path) -> Iterator[Path]:
    # This test is about lazycron's own resources, not the disk: on a tmpfs (when we may
    # mount one) the fsyncs of a thousand runs cost nothing.
    with tmpfs(state_dir, size="4m"):
        yield state_dir


# Not measured for coverage: coverage's tracer keeps bookkeeping for every thread it has
# traced (about 0.9 KB each, 2,000+ threads here), which tracemalloc would count as
# lazycron's growth. The code it runs (the WSGI middleware, scheduler, runner) is
# measured by their own tests.
@pytest.mark.no_cover
def test_no_growth_in_threads_fds_or_memory(
    make_scheduler, clock: FakeClock, registry, monkeypatch, fast_state_dir
) -> None:
    runs = [0]
    counting = Counting()
    logger = logging.getLogger("lazycron")
    monkeypatch.setattr(logger, "propagate", False)
    logger.addHandler(counting)

    @lazycron.job(every=1, name="tick", registry=registry)
    def tick() -> None:
        runs[0] += 1

    @lazycron.job(every=7, name="failing", registry=registry)
    def failing() -> None:
        raise RuntimeError("fails every time")

    scheduler = make_scheduler(state_dir=fast_state_dir, check_interval=0, history_limit=20)
    site = LazyCronMiddleware(app, scheduler=scheduler)

    def serve(count: int) -> None:
        for number in range(count):
            if number % 100 == 0:
                # A tight loop hogs the GIL; a real server waits on sockets. Let the job
                # threads finish once a fake second so that jobs really fire each second.
                assert scheduler.wait_idle(10)
            clock.advance(0.01)
            response = site({"PATH_INFO": "/"}, lambda *a: None)
            for _chunk in response:
                pass
            close = getattr(response, "close", None)
            if close is not None:
                close()
        assert scheduler.wait_idle(10)

    began = time.monotonic()
    tracemalloc.start()
    try:
        serve(10_000)  # warm up: caches, the history reaching its bound, lazy imports
        gc.collect()
        threads, fds = threading.active_count(), open_fds()
        # Two equal halves: a leak grows in both; a one-off (the interpreter's table of
        # interned strings doubling, say) in one at most.
        memory = [tracemalloc.get_traced_memory()[0]]
        before = tracemalloc.take_snapshot()
        warm_runs = runs[0]
        for _half in range(2):
            serve(REQUESTS // 2)
            gc.collect()
            memory.append(tracemalloc.get_traced_memory()[0])
        top = tracemalloc.take_snapshot().compare_to(before, "lineno")[:3]
    finally:
        tracemalloc.stop()
        logger.removeHandler(counting)
    assert runs[0] - warm_runs >= 900, "jobs did not fire often enough to judge"
    assert counting.errors >= 1000 // 7, "the failing job was not logged once per run"
    assert lazycron_threads() == [], "a finished run left a thread behind"
    assert threading.active_count() == threads
    assert open_fds() == fds, "file descriptors leaked"
    halves = [b - a for a, b in itertools.pairwise(memory)]
    print(f"hygiene: {runs[0] - warm_runs} runs, memory {halves} B, fds {open_fds() - fds:+d}")
    assert min(halves) < 128 * 1024, f"memory grew by {halves} B per 50,000 requests: {top}"
    assert max(halves) < 4 * 1024 * 1024, f"memory grew by {halves} B: {top}"
    assert len(scheduler.plan) <= 2 * len(registry) and len(scheduler.dispatcher.threads) <= 3
    assert time.monotonic() - began < 90
