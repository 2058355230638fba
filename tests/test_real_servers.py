"""The client never waits for a job: real servers, a job that sleeps 2 s.

gunicorn (WSGI, several workers) and uvicorn (ASGI) serve the test site. The job becomes
due, starts after a response, and sleeps for 2 s; every response, including the one that
started the job and those served while it runs, must arrive complete in well under 0.2 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import requests

from .apps.jobsite import BODY, read_log
from .serving import real_server

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
SERVERS = {
    "gunicorn-wsgi": [
        str(BIN / "gunicorn"),
        "-w",
        "2",
        "-b",
        "127.0.0.1:0",
        "tests.apps.jobsite:application",
    ],
    "gunicorn-gthread": [
        str(BIN / "gunicorn"),
        "-w",
        "2",
        "--threads",
        "4",
        "-b",
        "127.0.0.1:0",
        "tests.apps.jobsite:application",
    ],
    "uvicorn-asgi": [
        str(BIN / "uvicorn"),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "tests.apps.jobsite:asgi_application",
    ],
}


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_client_gets_the_response_while_a_slow_job_runs(tmp_path: Path, server: str) -> None:
    log = tmp_path / "jobs.log"
    env = {
        "LAZYCRON_STATE_DIR": str(tmp_path / "state"),
        "JOB_LOG": str(log),
        "JOB_EVERY": "1",
        "JOB_SLEEP": "2",
        "CHECK_INTERVAL": "0",
    }
    timings: list[tuple[float, float]] = []  # (request start, seconds to full response)
    # One keep-alive session: where the server keeps the connection open, the next request
    # on it would wait for the previous response's close(), so a job run there would show.
    session = requests.Session()
    with real_server(SERVERS[server], env, tmp_path / "server.log") as url, session:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            began, t0 = time.time(), time.perf_counter()
            response = session.get(url, timeout=5)
            elapsed = time.perf_counter() - t0
            assert response.status_code == 200 and response.content == BODY
            timings.append((began, elapsed))
            events = [e for e, *_ in read_log(str(log))] if log.exists() else []
            if "end" in events:
                break
            time.sleep(0.05)
    rows = read_log(str(log))
    assert [e for e, *_ in rows][:2] == ["start", "end"], "the job did not run to its end"
    started, ended = rows[0][3], rows[1][3]
    assert ended - started >= 2
    during = [elapsed for began, elapsed in timings if started - 0.5 <= began <= ended]
    assert len(during) >= 5, "too few requests overlapped the job to judge"
    slowest = max(elapsed for _, elapsed in timings)
    assert slowest < 0.2, f"a response took {slowest:.3f}s while a 2 s job ran"


def test_gevent_worker_keeps_serving_while_a_cpu_bound_job_runs(tmp_path: Path) -> None:
    """Under gevent, threading is patched into greenlets: a CPU-bound job on a greenlet
    would stall the whole worker. lazycron runs it on a real OS thread instead."""
    pytest.importorskip("gevent", reason="pip install gevent (in the test extra)")
    log = tmp_path / "jobs.log"
    env = {
        "LAZYCRON_STATE_DIR": str(tmp_path / "state"),
        "JOB_LOG": str(log),
        "JOB_EVERY": "1",
        "JOB_BUSY": "1.5",
        "CHECK_INTERVAL": "0",
    }
    argv = [
        str(BIN / "gunicorn"),
        "-k",
        "gevent",
        "-w",
        "1",
        "-b",
        "127.0.0.1:0",
        "tests.apps.jobsite:application",
    ]
    timings: list[tuple[float, float]] = []
    with real_server(argv, env, tmp_path / "server.log") as url, requests.Session() as session:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            began, t0 = time.time(), time.perf_counter()
            assert session.get(url, timeout=5).status_code == 200
            timings.append((began, time.perf_counter() - t0))
            if log.exists() and "end" in [e for e, *_ in read_log(str(log))]:
                break
            time.sleep(0.02)
    rows = read_log(str(log))
    started, ended = rows[0][3], rows[1][3]
    during = [elapsed for began, elapsed in timings if started <= began <= ended]
    # the GIL is shared, so requests slow down somewhat; they must not wait out the job
    slowest = max(during, default=0.0)
    assert slowest < 0.5, f"a request waited {slowest:.3f}s behind a 1.5 s job"
    assert len(during) >= 5
