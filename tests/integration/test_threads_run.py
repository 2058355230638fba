"""A thread started from a request runs to completion in every server's workers.

This is what lazycron relies on: each due job runs on a short-lived thread started after
the response. Thread lines are written by the threads themselves, a little after the
response, from whichever worker process served the request.

Two kinds are known to lose such threads (``Kind.threads_may_not_run``): gunicorn's
``--max-requests`` recycling kills them with their worker, and Debian's uWSGI without
``enable-threads`` only moves them during a request. They are not asserted here; what
users see there is: runs recorded as interrupted (test_proof_gunicorn) and a warning in the
log (test_proof_uwsgi, tests/test_threads.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.integration.servers import APPS_DIR, KINDS, App, Server, fire

REQUESTS = 40


RELIABLE = sorted(name for name, kind in KINDS.items() if not kind.threads_may_not_run)


@pytest.mark.parametrize("kind_name", RELIABLE)
def test_threads_started_from_requests_run(kind_name: str, shared_dir: Path) -> None:
    server_kind = KINDS[kind_name]
    server_kind.check()  # fails in CI, skips locally, when the server is not installed
    log = shared_dir / "threads.log"
    app = App(APPS_DIR / "thread_probe.py", "asgi_app" if server_kind.asgi else "application")
    with Server(server_kind, app, env={"HELLO_LOG": str(log)}) as server:
        replies = fire(server.base_url + "/", REQUESTS, concurrency=4)
        assert {r.status for r in replies} == {200}
        deadline = time.monotonic() + 5
        done = 0
        while time.monotonic() < deadline:
            done = log.read_text().count("thread") if log.exists() else 0
            if done >= REQUESTS:
                break
            time.sleep(0.05)
    assert done == REQUESTS, f"only {done} of {REQUESTS} request threads ran"
