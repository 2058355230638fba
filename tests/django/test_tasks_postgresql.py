"""Exactly-once enqueue, with real processes: gunicorn hosts, PostgreSQL, a ``db_worker``.

The site (tests/django/tasksite) keeps lazycron's job records and its tasks (django-tasks-
db's database backend) in the same PostgreSQL database, so each tick's claim, its task row
and the run's record commit in one transaction. Each test creates a database of its own
and drops it. In CI (``CI=true``) a missing PostgreSQL, psycopg or gunicorn fails.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import django
import pytest
import requests

from lazycron.runner import PAUSE_BEFORE_COMMIT_ENV
from lazycron.state import JobState, decode

from ..backends.services import PG, require
from ..backends.services import closed_port as free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        django.VERSION < (5, 2), reason="django-tasks-db, the database task backend, needs 5.2"
    ),
]

REPO = Path(__file__).resolve().parents[2]
SETTINGS = "tests.django.tasksite.settings"
TASK_TABLE = "django_tasks_database_dbtaskresult"
TICK_SECONDS = 2.0
TRAFFIC_SECONDS = 20.0


# -- the database ---------------------------------------------------------------------------


class Postgres:
    """A database of this test's own on the local server, and plain SQL against it."""

    def __init__(self) -> None:
        try:
            import psycopg
        except ImportError:
            require(False, "psycopg is missing: pip install 'psycopg[binary]'")
            raise
        self.psycopg = psycopg
        self.name = f"lazycron_tasks_{uuid.uuid4().hex[:10]}"
        try:
            self.execute(f'CREATE DATABASE "{self.name}"', database="test")
        except psycopg.Error as exc:
            require(False, f"PostgreSQL at 127.0.0.1:5432 is not usable ({exc})")

    def execute(self, sql: str, *, database: str | None = None) -> list[tuple[Any, ...]]:
        with self.psycopg.connect(
            host=PG["HOST"], port=int(PG["PORT"]), user=PG["USER"],
            dbname=database or self.name, autocommit=True, connect_timeout=5,
        ) as connection:  # fmt: skip
            cursor = connection.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []

    def drop(self) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', database="test")

    def other_sessions(self) -> int:
        [(count,)] = self.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(count)

    def tasks(self) -> list[tuple[str, str, str, Any]]:
        """(id, tick, status, return value) of every task row."""
        rows = self.execute(
            f"SELECT id::text, args_kwargs, status, return_value FROM {TASK_TABLE} "
            "ORDER BY enqueued_at"
        )
        return [(id_, args["kwargs"]["tick"], status, value) for id_, args, status, value in rows]

    def job_state(self) -> JobState | None:
        rows = self.execute("SELECT state FROM lazycron_jobrecord WHERE name = 'beat'")
        return decode(bytes(rows[0][0])) if rows else None


@pytest.fixture
def db() -> Iterator[Postgres]:
    database = Postgres()
    try:
        yield database
    finally:
        database.drop()


def site_env(db: Postgres, **extra: str) -> dict[str, str]:
    env = {**os.environ, "LAZYCRON_TASKS_DB": db.name, "DJANGO_SETTINGS_MODULE": SETTINGS}
    env["PYTHONPATH"] = str(REPO)
    env.pop(PAUSE_BEFORE_COMMIT_ENV, None)
    return {**env, **extra}


def migrate(db: Postgres) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v0"],
        cwd=REPO, env=site_env(db), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


# -- the processes --------------------------------------------------------------------------


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own group, always killed (group and all) when the block ends."""
    with log.open("wb") as out:
        child = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield child
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(10)


def gunicorn(db: Postgres, port: int, workers: int, log: Path, **env: str) -> Any:
    require(importlib.util.find_spec("gunicorn") is not None, "gunicorn is missing: pip install it")
    argv = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5",
        *_no_control_socket(), "tests.django.tasksite.wsgi:application",
    ]  # fmt: skip
    return process(argv, site_env(db, **env), log)


@functools.cache
def _no_control_socket() -> list[str]:
    """Recent gunicorn opens a control socket at one fixed path per user; two hosts (and
    other tests' servers) would fight over it."""
    usage = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True, check=False
    ).stdout
    return ["--no-control-socket"] if "--no-control-socket" in usage else []


def wait_until_serving(port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"gunicorn on {port} did not serve:\n{log.read_text()[-3000:]}")


def traffic(ports: list[int], seconds: float, stop: threading.Event | None = None) -> int:
    """Requests round the hosts for ``seconds`` (or until ``stop``); bounded in count."""
    statuses: list[int] = []
    deadline = time.monotonic() + seconds

    def client(offset: int) -> None:
        with requests.Session() as session:
            for n in range(int(seconds * 50)):
                if time.monotonic() > deadline or (stop is not None and stop.is_set()):
                    return
                port = ports[(n + offset) % len(ports)]
                statuses.append(session.get(f"http://127.0.0.1:{port}/", timeout=10).status_code)
                time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) == {200}, statuses
    return len(statuses)


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


# -- the tests ------------------------------------------------------------------------------


def test_two_hosts_enqueue_one_task_per_tick_and_a_db_worker_runs_them_all(
    db: Postgres, tmp_path: Path
) -> None:
    migrate(db)
    ports = [free_port(), free_port()]
    worker_argv = [
        sys.executable, "-m", "django", "db_worker", "--interval", "0.2", "--no-reload",
        "--no-startup-delay",
    ]  # fmt: skip
    with (
        process(worker_argv, site_env(db), tmp_path / "worker.log"),
        gunicorn(db, ports[0], 3, tmp_path / "host-a.log"),
        gunicorn(db, ports[1], 3, tmp_path / "host-b.log"),
    ):
        for port, name in zip(ports, ("host-a", "host-b"), strict=True):
            wait_until_serving(port, tmp_path / f"{name}.log")
        assert traffic(ports, TRAFFIC_SECONDS) > 100
        state = db.job_state()
        assert state is not None

        def all_done() -> bool:
            return all(status in {"SUCCESSFUL", "FAILED"} for _, _, status, _ in db.tasks())

        wait_for(all_done, 60, "the db_worker to run every task")
    tasks = db.tasks()
    logs = "\n".join(p.read_text()[-2000:] for p in sorted(tmp_path.glob("*.log")))

    ticks = [tick for _, tick, _, _ in tasks]
    assert len(ticks) >= TRAFFIC_SECONDS / TICK_SECONDS / 2, logs
    assert len(set(ticks)) == len(ticks), f"a tick was enqueued twice: {ticks}"
    instants = sorted(datetime.fromisoformat(tick).timestamp() for tick in ticks)
    gaps = [later - earlier for earlier, later in itertools.pairwise(instants)]
    assert all(round(gap / TICK_SECONDS) * TICK_SECONDS == pytest.approx(gap) for gap in gaps)
    # The db_worker ran every one, and each run saw its own tick.
    assert {status for _, _, status, _ in tasks} == {"SUCCESSFUL"}, logs
    assert all(value["tick"] == tick for _, tick, _, value in tasks)
    # lazycron's record has one enqueued run per task row, naming it: the claims are the
    # tasks, no more, no fewer.
    enqueued = [run for run in state.history if run.outcome == "enqueued"]
    assert {run.task_id for run in enqueued} == {id_ for id_, _, _, _ in tasks}
    assert [run for run in state.history if run.outcome != "enqueued"] == []
    assert {run.task_backend for run in enqueued} == {"default"}
    # `status` asks the task backend: the last task's own final status, from the worker.
    shown = subprocess.run(
        [sys.executable, "-m", "django", "lazycron", "status", "--json"],
        cwd=REPO, env=site_env(db), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    [row] = json.loads(shown.stdout)["jobs"]
    assert row["last_run"]["outcome"] == "enqueued"
    assert row["last_run"]["task_status"] == "SUCCESSFUL"


def test_a_web_worker_killed_between_claim_and_commit_leaves_neither_claim_nor_task(
    db: Postgres, tmp_path: Path
) -> None:
    """The test hook pauses the job thread once the claim, the task row and the run's
    record are written, before the commit; the worker is killed there with SIGKILL."""
    migrate(db)
    port, marker = free_port(), tmp_path / "paused"
    log = tmp_path / "paused-host.log"
    with gunicorn(db, port, 1, log, **{PAUSE_BEFORE_COMMIT_ENV: str(marker)}):
        wait_until_serving(port, log)
        stop = threading.Event()
        sender = threading.Thread(target=traffic, args=([port], 20.0, stop))
        sender.start()
        try:
            wait_for(lambda: marker.exists() and marker.read_text().strip(), 20, "the pause")
        finally:
            stop.set()
            sender.join()
        [paused_pid] = {int(line) for line in marker.read_text().split()}
        # While paused: the uncommitted claim and task are invisible to everyone else.
        assert db.tasks() == []
        os.kill(paused_pid, signal.SIGKILL)
    wait_for(lambda: db.other_sessions() == 0, 30, "the killed sessions to end")

    assert db.tasks() == [], "a task without its claim"
    state = db.job_state()
    assert state is not None  # first sight was written, before the tick
    assert state.current is None and state.last_tick is None, "a claim without its task"
    assert state.history == []
    # The tick was never claimed: the next host claims and enqueues it, once.
    log = tmp_path / "next-host.log"
    with gunicorn(db, port, 3, log):
        wait_until_serving(port, log)
        wait_for(lambda: traffic([port], 1.0) > 0 and len(db.tasks()) > 0, 30, "an enqueue")
    state = db.job_state()
    assert state is not None and state.last_run is not None
    assert [run.outcome for run in state.history] == ["enqueued"] * len(state.history)
    assert len(db.tasks()) == len(state.history)


def test_a_failed_enqueue_rolls_back_its_claim_and_is_recorded_as_failed(
    db: Postgres, tmp_path: Path
) -> None:
    """The second task's INSERT fails in the database (a duplicate id), which aborts the
    shared transaction: its claim goes with it, and the run is then recorded as failed
    (with the database's error) on lazycron's own connection."""
    migrate(db)
    port, log = free_port(), tmp_path / "host.log"
    with gunicorn(db, port, 3, log, LAZYCRON_TASKS_FIXED_ID="1"):
        wait_until_serving(port, log)

        def failed_once() -> bool:
            traffic([port], 0.5)
            state = db.job_state()
            return state is not None and any(run.outcome == "failed" for run in state.history)

        wait_for(failed_once, 30, "a failed enqueue")
    state = db.job_state()
    assert state is not None and state.current is None
    failed = [run for run in state.history if run.outcome == "failed"]
    enqueued = [run for run in state.history if run.outcome == "enqueued"]
    assert [run.task_id for run in enqueued] == [str(uuid.UUID(int=1))]
    assert failed and all("IntegrityError" in (run.error or "") for run in failed)
    assert all(run.task_id is None for run in failed)
    assert len(db.tasks()) == 1  # the first task; the failed ones left nothing
    assert len({run.tick for run in state.history}) == len(state.history)
