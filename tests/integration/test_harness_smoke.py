"""Prove the harness: every server kind starts for real and serves a hello app.

No lazycron here yet: this checks that each server starts with several workers sharing one
directory, answers concurrent traffic, and stops without leaving processes behind.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from tests.integration.servers import APPS_DIR, App, Kind, Server, fire

REQUESTS = 200
CONCURRENCY = 8


def test_server_serves_hello(server_kind: Kind, shared_dir: Path) -> None:
    log = shared_dir / "hello.log"
    app = App(APPS_DIR / "hello.py", "asgi_app" if server_kind.asgi else "application")

    started = time.perf_counter()
    with Server(server_kind, app, env={"HELLO_LOG": str(log)}) as server:
        ready = time.perf_counter()
        replies = fire(server.base_url + "/", REQUESTS, CONCURRENCY)
        # Workers boot a little apart and a fast one may win every accept for a while:
        # on a multi-process server, send more rounds (a few at most) until a second
        # worker has answered.
        for _ in range(5):
            if not server_kind.multiprocess or len({r.body for r in replies}) > 1:
                break
            time.sleep(0.2)
            replies += fire(server.base_url + "/", REQUESTS, CONCURRENCY)
        served = time.perf_counter()
    stopped = time.perf_counter()

    statuses = Counter(reply.status for reply in replies)
    assert statuses == {200: len(replies)}, statuses
    logged = Counter(log.read_text().split())
    pids = {int(word) for word in logged if word.isdigit()}
    assert logged["pid"] == len(replies)
    answered = {int(r.body.split()[-1]) for r in replies}
    assert answered == pids
    if server_kind.multiprocess:
        assert len(pids) > 1, f"only one worker served: {pids}"
    else:
        assert len(pids) == 1
    print(
        f"{server_kind.name}: start {ready - started:.2f} s, {REQUESTS} requests "
        f"{served - ready:.2f} s, stop {stopped - served:.2f} s, {len(pids)} pids"
    )
