"""The client never waits for a job: real servers, a job that sleeps or computes.

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
from .helpers.serving import real_server

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
WSGI_SITE, ASGI_SITE = "tests.apps.jobsite:application", "tests.apps.jobsite:asgi_application"
GUNICORN = [str(BIN / "gunicorn"), "-b", "127.0.0.1:0"]
SERVERS = {
    "gunicorn-wsgi": [*GUNICORN, "-w", "2", WSGI_SITE],
    "gunicorn-gthread": [*GUNICORN, "-w", "2", "--threads", "4", WSGI_SITE],
    "uvicorn-asgi": [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", "0", ASGI_SITE],
}


def latencies_while_the_job_runs(argv: list[str], tmp_path: Path, **job: str) -> list[float]:
    """Serve, send requests until the job has run once, and return the time to a complete
    response of each request sent while it ran. Asserts every response is whole."""
    log = tmp_path / "jobs.log"
    env = {
        "LAZYCRON_STATE_DIR": str(tmp_path / "state"),
        "JOB_LOG": str(log),
        "JOB_EVERY": "1",
        "CHECK_INTERVAL": "0",
        **job,
    }
    timings: list[tuple[float, float]] = []  # (request start, seconds to full response)
    # One keep-alive session: where the server keeps the connection open, the next request
    # on it would wait for the previous response's close(), so a job run there would show.
    with real_server(argv, env, tmp_path / "server.log") as url, requests.Session() as session:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            began, t0 = time.time(), time.perf_counter()
            response = session.get(url, timeout=5)
            timings.append((began, time.perf_counter() - t0))
            assert response.status_code == 200 and response.content == BODY
            if log.exists() and "end" in [event for event, *_ in read_log(str(log))]:
                break
            time.sleep(0.03)
    rows = read_log(str(log))
    assert [event for event, *_ in rows][:2] == ["start", "end"], "the job did not run"
    started, ended = rows[0][3], rows[1][3]
    return [elapsed for began, elapsed in timings if started - 0.5 <= began <= ended]


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_client_gets_the_response_while_a_slow_job_runs(tmp_path: Path, server: str) -> None:
    during = latencies_while_the_job_runs(SERVERS[server], tmp_path, JOB_SLEEP="2")
    slowest = max(during, default=0.0)
    assert slowest < 0.2, f"a response took {slowest:.3f}s while a 2 s job ran"
    assert len(during) >= 5, "too few requests overlapped the job to judge"


def test_gevent_worker_keeps_serving_while_a_cpu_bound_job_runs(tmp_path: Path) -> None:
    """Under gevent, threading is patched into greenlets: a CPU-bound job on a greenlet
    would stall the whole worker. lazycron runs it on a real OS thread instead."""
    pytest.importorskip("gevent", reason="pip install gevent (in the test extra)")
    argv = [*GUNICORN, "-k", "gevent", "-w", "1", WSGI_SITE]
    during = latencies_while_the_job_runs(argv, tmp_path, JOB_BUSY="1.5")
    # the GIL is shared, so requests slow down somewhat; they must not wait out the job
    slowest = max(during, default=0.0)
    assert slowest < 0.5, f"a request waited {slowest:.3f}s behind a 1.5 s CPU-bound job"
    assert len(during) >= 5


def test_gevent_worker_keeps_a_quick_job_on_schedule_while_12_long_jobs_run(
    tmp_path: Path,
) -> None:
    """gevent's hub has a pool of 10 threads: jobs run there would queue behind ten long
    ones. A quick job declared every second must keep running every second or so."""
    pytest.importorskip("gevent", reason="pip install gevent (in the test extra)")
    log = tmp_path / "quick.log"
    env = {"LAZYCRON_STATE_DIR": str(tmp_path / "state"), "JOB_LOG": str(log)}
    argv = [*GUNICORN, "-k", "gevent", "-w", "1", "tests.apps.crowdsite:application"]
    with real_server(argv, env, tmp_path / "server.log") as url, requests.Session() as session:
        began = time.time()
        while time.time() - began < 9:  # steady traffic while the long jobs sleep 8 s
            assert session.get(url, timeout=5).status_code == 200
            time.sleep(0.1)
    runs = [float(line) for line in log.read_text().split()] if log.exists() else []
    # first sight at 0 s, then a run each second: allow a generous margin, not a queue
    during = [when for when in runs if began + 2 <= when <= began + 8]
    assert len(during) >= 4, f"the quick job ran {len(during)} times in 6 s: {runs}"
