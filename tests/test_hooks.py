"""Hooks and pings: on_success/on_failure, scheduler hooks=, and healthchecks-style pings
to a real local HTTP server (success, failure, a hanging job, a target that is down)."""

from __future__ import annotations

import http.server
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import lazycron
from lazycron import Registry, Scheduler
from lazycron.errors import ConfigurationError, JobDefinitionError
from lazycron.hooks import wait_for_pings
from lazycron.state import Run
from lazycron.testing import FakeClock


class PingTarget:
    """A local HTTP server that records the paths it is asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ping/abc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.paths) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.paths

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target() -> Iterator[PingTarget]:
    server = PingTarget()
    yield server
    server.close()


def scheduler_for(registry: Registry, state_dir: Path, **options: Any) -> Scheduler:
    return Scheduler(registry, state_dir=state_dir, clock=FakeClock(), **options)


def test_ping_on_success(registry: Registry, state_dir: Path, target: PingTarget) -> None:
    lazycron.job(every=60, name="job", ping=target.url, registry=registry)(lambda: None)
    scheduler_for(registry, state_dir).run_now("job")
    wait_for_pings()
    assert target.wait_for(2) == ["/ping/abc/start", "/ping/abc"]


def test_ping_on_failure(registry: Registry, state_dir: Path, target: PingTarget) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    lazycron.job(every=60, name="job", ping=target.url + "/", registry=registry)(broken)
    scheduler_for(registry, state_dir).run_now("job")
    wait_for_pings()
    assert target.wait_for(2) == ["/ping/abc/start", "/ping/abc/fail"]


def test_a_hanging_job_pings_start_only(
    registry: Registry, state_dir: Path, target: PingTarget
) -> None:
    release = threading.Event()
    lazycron.job(every=60, name="job", ping=target.url, registry=registry)(lambda: release.wait(10))
    worker = threading.Thread(target=scheduler_for(registry, state_dir).run_now, args=("job",))
    worker.start()
    try:
        assert target.wait_for(1) == ["/ping/abc/start"]
        time.sleep(0.3)  # the job hangs: nothing more is sent meanwhile
        assert target.paths == ["/ping/abc/start"]
    finally:
        release.set()
        worker.join(10)
        wait_for_pings()  # the outcome's ping lands before the target closes, not in a later test


def test_a_target_that_is_down_changes_nothing(
    registry: Registry, state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ran: list[int] = []
    lazycron.job(every=60, name="job", ping=f"http://127.0.0.1:{port}/x", registry=registry)(
        lambda: ran.append(1)
    )
    caplog.set_level(logging.WARNING, logger="lazycron")
    result = scheduler_for(registry, state_dir).run_now("job")
    wait_for_pings()
    assert ran == [1] and result.ran is not None and result.ran.outcome == "ok"
    failed = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert [m.split()[1] for m in failed if f":{port}/" in m] == [
        f"http://127.0.0.1:{port}/x/start",
        f"http://127.0.0.1:{port}/x",
    ]


def test_on_success_on_failure_and_scheduler_hooks(registry: Registry, state_dir: Path) -> None:
    calls: list[tuple[str, str, str]] = []

    def note(kind: str) -> Callable[[lazycron.Job, Run], None]:
        return lambda job, run: calls.append((kind, job.name, run.outcome))

    class Recorder:
        def run_started(self, job: lazycron.Job, run: Run) -> None:
            calls.append(("started", job.name, run.outcome))

        def run_finished(self, job: lazycron.Job, run: Run) -> None:
            calls.append(("finished", job.name, run.outcome))

    def broken() -> None:
        raise RuntimeError("boom")

    lazycron.job(every=60, name="good", on_success=note("success"), registry=registry)(lambda: None)
    lazycron.job(every=60, name="bad", on_failure=note("failure"), registry=registry)(broken)
    scheduler = scheduler_for(registry, state_dir, hooks=[Recorder()])
    scheduler.run_now("good")
    scheduler.run_now("bad")
    assert calls == [
        ("started", "good", "running"),
        ("success", "good", "ok"),
        ("finished", "good", "ok"),
        ("started", "bad", "running"),
        ("failure", "bad", "failed"),
        ("finished", "bad", "failed"),
    ]


def test_a_hooks_exception_is_logged_never_raised(
    registry: Registry, state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(job: lazycron.Job, run: Run) -> None:
        raise ValueError("hook bug")

    class Exploding:
        def run_started(self, job: lazycron.Job, run: Run) -> None:
            raise ValueError("hook bug")

    lazycron.job(every=60, name="job", on_success=explode, registry=registry)(lambda: None)
    scheduler = scheduler_for(registry, state_dir, hooks=[Exploding()])
    result = scheduler.run_now("job")
    assert result.ran is not None and result.ran.outcome == "ok"  # the job's outcome stands
    state = scheduler.runner.read(registry.get("job"))
    assert state is not None and state.history[-1].outcome == "ok"
    assert (
        sum("hook bug" in (r.exc_text or "") or r.exc_info is not None for r in caplog.records) >= 2
    )


def test_options_are_checked_at_declaration(registry: Registry, state_dir: Path) -> None:
    with pytest.raises(JobDefinitionError, match="ping='ftp://x' must be an http"):
        lazycron.job(every=60, name="a", ping="ftp://x", registry=registry)(lambda: None)
    with pytest.raises(JobDefinitionError, match="on_success= must be a function"):
        lazycron.job(every=60, name="b", on_success="x", registry=registry)(lambda: None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="neither a run_started"):
        scheduler_for(registry, state_dir, hooks=[object()])
