"""A job that never returns, and a job that fails at every tick:
docs/design.md#exactly-one-winner-per-tick, docs/design.md#failures-stay-inside.

Requests go through the WSGI middleware in-process; the fake clock moves time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import lazycron
from lazycron import Scheduler
from lazycron.testing import FakeClock
from lazycron.wsgi import LazyCronMiddleware

from ..helpers import run_check


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [])
    return [b"ok"]


def request(middleware: LazyCronMiddleware) -> float:
    """One request as a server makes it, including close(); returns how long it took."""
    started = time.perf_counter()
    response = middleware({"PATH_INFO": "/"}, lambda *a: None)
    assert b"".join(response) == b"ok"
    close = getattr(response, "close", None)
    if close is not None:
        close()
    return time.perf_counter() - started


def test_a_hung_job_holds_back_neither_other_jobs_nor_requests(
    make_scheduler, clock: FakeClock, registry, lazycron_log
) -> None:
    release, hung_started = threading.Event(), threading.Event()
    hung_runs: list[float] = []
    fast_runs: list[float] = []
    fast_ran = threading.Semaphore(0)

    @lazycron.job(every=60, name="hung", expected_duration=90, registry=registry)
    def hung() -> None:
        hung_runs.append(clock.time())
        hung_started.set()
        release.wait(15)  # "never" returns: the test releases it at the end

    @lazycron.job(every=60, name="fast", registry=registry)
    def fast() -> None:
        fast_runs.append(clock.time())
        fast_ran.release()

    scheduler: Scheduler = make_scheduler()
    other: Scheduler = make_scheduler()  # a second worker sharing the state directory
    site, other_site = (
        LazyCronMiddleware(app, scheduler=scheduler),
        LazyCronMiddleware(app, scheduler=other),
    )
    try:
        run_check(scheduler)
        slowest = 0.0
        for minute in range(1, 4):
            clock.advance(60)
            # Keep the traffic coming until the fast job has run: a job thread that finished
            # a moment ago plans its next tick only then, and a check needs a request.
            deadline = time.monotonic() + 10
            while not fast_ran.acquire(timeout=0.002):
                assert time.monotonic() < deadline, f"minute {minute}: fast job held back"
                slowest = max(slowest, request(site), request(other_site))
            assert hung_started.wait(10)
        assert slowest < 0.05, f"a request took {slowest:.3f}s while a job hung"
        assert len(hung_runs) == 1  # never started again while it runs
        assert len(fast_runs) == 3

        # 180 s after its start (expected 90 s), status says running and overrunning
        (status,) = scheduler.status(["hung"])
        assert status.running is not None and status.running.pid > 0
        assert status.overrunning
        (fast_status,) = scheduler.status(["fast"])
        assert not fast_status.overrunning

        # the other worker, finding the job running past expected_duration, says so once
        # (the worker running it has it in hand, not on its plan)
        def overruns() -> int:
            return sum("expected_duration" in r.getMessage() for r in lazycron_log.records)

        for _ in range(300):  # (whichever worker won the hung job, the other one looks)
            clock.advance(0.1)
            request(site)
            request(other_site)
        assert overruns() == 1, "the overrun is logged once, not once per request"
    finally:
        release.set()
    assert scheduler.wait_idle(10) and other.wait_idle(10)
    state = scheduler.runner.read(registry.get("hung"))
    assert state is not None and state.history[0].outcome == "ok"


def test_a_job_failing_at_every_tick_is_logged_once_per_run(
    make_scheduler, clock: FakeClock, registry, lazycron_log
) -> None:
    @lazycron.job(every=10, name="broken", registry=registry)
    def broken() -> None:
        raise RuntimeError("the mail server is down")

    scheduler = make_scheduler()
    site = LazyCronMiddleware(app, scheduler=scheduler)
    run_check(scheduler)
    for _ in range(1000):  # 100 fake seconds, ten requests a second: ten ticks
        clock.advance(0.1)
        request(site)
        assert scheduler.wait_idle(10)
    errors = [r for r in lazycron_log.records if r.levelno >= logging.ERROR]
    assert len(errors) == 10, [r.getMessage() for r in errors]
    assert all("failed for tick" in r.getMessage() and r.exc_info for r in errors)
    state = scheduler.runner.read(registry.get("broken"))
    assert state is not None
    assert [r.outcome for r in state.history] == ["failed"] * 10
