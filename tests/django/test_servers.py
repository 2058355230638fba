"""The example site under real servers: gunicorn (WSGI, 3 workers), uvicorn (ASGI,
2 workers) and runserver. Jobs are found by autodiscovery; the jobs' own run log must
show exactly one run per tick, no overlap, and every response a 200.

Each test starts the server on a free port, sends traffic for a few seconds from a few
threads, and always kills the server's process group. Bounded: under 20 s each.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .helpers import REPO

pytestmark = pytest.mark.integration

SITE = REPO / "examples" / "django_site"
BIN = Path(sys.executable).parent
TRAFFIC_SECONDS = 7.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def var(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "DEMO_VAR": str(tmp_path), "PYTHONPATH": str(SITE)}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the site's own, not the tests'
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=SITE, env=env, check=True)
    yield env


def serve(command: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        command,
        cwd=SITE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so teardown kills every worker
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # still starting (or busy)
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read() if process.stderr else b""
                raise AssertionError(f"server did not start: {stderr!r}")
            time.sleep(0.1)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()  # else an unclosed-file ResourceWarning, an error here


def traffic(port: int, paths: list[str]) -> list[int]:
    statuses: list[int] = []
    stop = time.monotonic() + TRAFFIC_SECONDS

    def client(path: str) -> None:
        with requests.Session() as session:
            while time.monotonic() < stop:
                response = session.get(f"http://127.0.0.1:{port}{path}", timeout=5)
                statuses.append(response.status_code)
                time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


Runs = dict[str, list[tuple[float, float, float, int]]]  # job -> (tick, start, end, pid)


def runs(var_dir: str) -> Runs:
    by_job: Runs = defaultdict(list)
    log = Path(var_dir) / "runs.log"
    for line in log.read_text().splitlines():
        name, tick, start, end, pid = line.split("\t")
        by_job[name].append((float(tick), float(start), float(end), int(pid)))
    return by_job


def assert_exactly_once_no_overlap(var_dir: str) -> Runs:
    by_job = runs(var_dir)
    assert len(by_job["pulse.every_2s"]) >= 2, by_job  # found by autodiscovery, and ran
    for name, job_runs in by_job.items():
        ticks = [tick for tick, *_ in job_runs]
        assert len(ticks) == len(set(ticks)), f"{name}: a tick ran twice: {sorted(ticks)}"
        spans = sorted((start, end) for _, start, end, _ in job_runs)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, f"{name}: runs overlap"
    return by_job


def test_gunicorn_three_workers(var: dict[str, str]) -> None:
    port = free_port()
    command = [str(BIN / "gunicorn"), "demo.wsgi", "-w", "3", "-b", f"127.0.0.1:{port}"]
    for process in serve(command, var, port):
        statuses = traffic(port, ["/", "/", "/snapshots/", "/"])
        assert statuses and set(statuses) == {200}
        by_job = assert_exactly_once_no_overlap(var["DEMO_VAR"])
        assert len(by_job["shop.snapshot"]) >= 1  # wrote through the ORM, from a job thread
        worker_pids = {pid for job_runs in by_job.values() for *_, pid in job_runs}
        assert process.pid not in worker_pids  # the arbiter never runs jobs


def test_uvicorn_two_workers(var: dict[str, str]) -> None:
    port = free_port()
    command = [
        str(BIN / "uvicorn"),
        "demo.asgi:application",
        "--workers",
        "2",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--lifespan",
        "off",
    ]
    for _ in serve(command, var, port):
        statuses = traffic(port, ["/async/", "/", "/async/", "/"])
        assert statuses and set(statuses) == {200}
        assert_exactly_once_no_overlap(var["DEMO_VAR"])


def test_runserver_runs_jobs_only_in_the_serving_process(var: dict[str, str]) -> None:
    port = free_port()
    # With the autoreloader: the process we start only watches files and restarts the
    # child; the child serves, so the child alone may run jobs.
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"]
    for process in serve(command, var, port):
        statuses = traffic(port, ["/", "/async/"])
        assert statuses and set(statuses) == {200}
        by_job = assert_exactly_once_no_overlap(var["DEMO_VAR"])
        pids = {pid for job_runs in by_job.values() for *_, pid in job_runs}
        assert process.pid not in pids and len(pids) == 1
