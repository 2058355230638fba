"""The shared backends wired into the scheduler, the middlewares, Django, Flask and the CLI.

Two schedulers on one store play two hosts. Leases are judged by the store's clock, so
the heartbeat tests wait in real time: that the lease outlives the job *is* the behaviour.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import lazycron
from lazycron import Registry, Scheduler
from lazycron._threads import start_thread
from lazycron.runner import Verdict
from lazycron.testing import FakeClock

from . import services
from .helpers import Store

SHORT_LEASE = 0.6


@pytest.fixture(params=["redis", "postgresql"])
def shared_store(request: pytest.FixtureRequest) -> Store:
    """Each store several machines can share, in turn."""
    value: Store = request.getfixturevalue(f"{request.param}_store")
    return value


def registry_with(name: str, func: Any, **options: Any) -> Registry:
    registry = Registry()
    lazycron.job(name=name, registry=registry, **options)(func)
    return registry


# -- a URL is enough --------------------------------------------------------------------------


def test_scheduler_and_middlewares_take_a_redis_url(redis_store: Store, job: str) -> None:
    from lazycron.asgi import LazyCronMiddleware as ASGI
    from lazycron.backends.redis import RedisBackend
    from lazycron.wsgi import LazyCronMiddleware as WSGI

    url = f"{services.REDIS_URL}?prefix={redis_store.spec['prefix']}&lease=5"
    registry = registry_with(job, lambda: None, every="1m")
    for scheduler in (
        Scheduler(registry, backend=url),
        WSGI(lambda e, s: [], registry=registry, backend=url).scheduler,
        ASGI(lambda *a: None, registry=registry, backend=url).scheduler,
    ):
        backend = scheduler.backend
        assert isinstance(backend, RedisBackend)
        assert (backend.prefix, backend.lease) == (redis_store.spec["prefix"], 5.0)
        assert backend.location == services.REDIS_URL  # nor the options, nor a password


def test_an_unreachable_store_costs_requests_nothing_and_logs_once(
    job: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Fail closed: with Redis down the job does not run, one line says so (however many
    checks), and the check itself (the request side) never waits for the network."""
    ran: list[float] = []
    clock = FakeClock()
    url = f"redis://127.0.0.1:{services.closed_port()}/0?prefix=down"
    scheduler = Scheduler(
        registry_with(job, lambda: ran.append(1), every="1s"),
        backend=url,
        clock=clock,
        check_interval=0,
    )
    with caplog.at_level(logging.WARNING, logger="lazycron"):
        for _ in range(20):
            clock.advance(1.5)
            started = time.perf_counter()
            scheduler.check()
            assert time.perf_counter() - started < 0.05  # the network is never on this path
            assert scheduler.wait_idle(10)
    assert ran == []
    lines = [r for r in caplog.records if "cannot use store" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]


# -- the heartbeat keeps a long run's lease ---------------------------------------------------


def test_a_job_three_times_the_lease_is_claimed_once(shared_store: Store, job: str) -> None:
    """apscheduler#864: a job outlived its lock and another instance started it again.
    Here the lease is 0.6 s and the run takes 3 leases: the runner's heartbeat renews it
    (from a helper thread), so another host sees the job held throughout and does not
    run it; the run is recorded once, with no "lost its lease" error."""
    started: list[str] = []
    release = threading.Event()

    def work() -> None:
        started.append(threading.current_thread().name)
        release.wait(3 * SHORT_LEASE)

    registry = registry_with(job, work, every="1h")
    host_a = Scheduler(registry, backend=shared_store.backend(lease=SHORT_LEASE))
    host_b = Scheduler(registry, backend=shared_store.backend(lease=SHORT_LEASE))
    job_obj = registry.get(job)

    # On a thread of lazycron's own, as the dispatcher would start it (such a thread
    # keeps no database connection once its run is over).
    def hold() -> None:
        host_a.run_now(job)

    holder = start_thread(hold, f"lazycron:{job}")
    deadline = time.monotonic() + 3 * SHORT_LEASE
    seen_held = 0
    while holder.is_alive() and time.monotonic() < deadline - 0.1:
        if started:
            snapshot = host_b.backend.read(job)
            assert snapshot is not None and snapshot.lease_live, "the lease lapsed mid-run"
            assert host_b.runner.attempt(job_obj, trigger="manual").verdict is Verdict.BUSY
            seen_held += 1
        time.sleep(0.1)
    holder.join(10)
    assert len(started) == 1 and seen_held >= 5
    snapshot = host_b.backend.read(job)
    assert snapshot is not None and not snapshot.lease_live
    assert [r.outcome for r in snapshot.state.history] == ["ok"]


# -- the database backend's connections --------------------------------------------------------


def test_database_backend_leaves_no_connection_open_in_lazycron_threads(
    postgresql_store: Store, postgresql_db: services.Database, job: str
) -> None:
    """Dispatcher, job and heartbeat threads each close what they opened: after a run made
    by a check (all of lazycron's threads), the database has as many sessions as before."""
    name = postgresql_db.conf["NAME"]

    def sessions() -> int:
        rows = postgresql_db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        return int(rows[0][0])

    clock = FakeClock()
    registry = registry_with(job, lambda: time.sleep(0.5), every="1s")
    scheduler = Scheduler(
        registry, backend=postgresql_store.backend(lease=0.9), clock=clock, check_interval=0
    )
    before = sessions()
    for _ in range(3):
        scheduler.check()
        assert scheduler.wait_idle(10)
        clock.advance(1)
    deadline = time.monotonic() + 5
    while sessions() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    # No more than before: a session some earlier test left may close meanwhile, but
    # none of lazycron's threads may leave one open.
    assert sessions() <= before
    snapshot = scheduler.backend.read(job)
    assert snapshot is not None and [r.outcome for r in snapshot.state.history] == ["ok"] * 2


# -- Django: BACKEND builds the scheduler ----------------------------------------------------


@pytest.fixture
def django_site(sqlite_store: Store) -> Iterator[None]:
    from lazycron.django import runtime

    runtime.reset()
    yield
    runtime.reset()


def test_django_backend_setting_is_the_schedulers_backend(
    django_site: None, redis_store: Store, tmp_path: Any
) -> None:
    from django.core.checks import run_checks
    from django.core.management import call_command
    from django.test import override_settings

    from lazycron.backends.redis import RedisBackend
    from lazycron.django import runtime

    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    url = f"{services.REDIS_URL}?prefix={redis_store.spec['prefix']}"
    with override_settings(LAZYCRON={"BACKEND": url, "LEASE": 7, "STATE_DIR": str(blocked)}):
        scheduler = runtime.build_scheduler()
        assert isinstance(scheduler.backend, RedisBackend)
        assert scheduler.backend.lease == 7.0
        # STATE_DIR is not used, so its check (E002) does not run.
        assert not [m for m in run_checks(tags=["lazycron"]) if m.id == "lazycron.E002"]
        # manage.py lazycron acts on the configured store, and shows who ran what.
        runtime.reset()
        out = io.StringIO()
        call_command("lazycron", "status", stdout=out)
        assert out.getvalue().startswith(f"state: {services.REDIS_URL}\n")
        assert "HOST" in out.getvalue().splitlines()[1].split()
    with override_settings(LAZYCRON={"STATE_DIR": str(blocked / "x")}):
        assert [m for m in run_checks(tags=["lazycron"]) if m.id == "lazycron.E002"]


# -- the CLI and the Flask extension ---------------------------------------------------------


def test_cli_backend_option_and_the_host_column(redis_store: Store, tmp_path: Any) -> None:
    """``lazycron --backend URL`` acts on the shared records, and ``status`` says which
    host ran each job (here labelled by $LAZYCRON_HOST, as two hosts on one machine)."""
    url = f"{services.REDIS_URL}?prefix={redis_store.spec['prefix']}-cli"

    def cli(*args: str, host: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "lazycron", "--backend", url, "-m", "tests.apps.clijobs", *args],
            cwd=services.REPO,
            env={**os.environ, "CLI_LOG": str(tmp_path / "log"), "LAZYCRON_HOST": host},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    try:
        cli("run", "greet", host="host-a")
        text = cli("status", host="host-b")
        header, *rows = text.splitlines()[1:]
        assert "HOST" in header.split()
        (greet,) = [row for row in rows if row.startswith("greet")]
        assert " host-a " in greet
        data = json.loads(cli("--json", "status", host="host-b"))
        (job,) = [j for j in data["jobs"] if j["name"] == "greet"]
        assert job["last_run"]["host"] == "host-a"
    finally:
        services.delete_prefix(services.REDIS_URL, f"{redis_store.spec['prefix']}-cli")


def test_flask_backend_config(redis_store: Store, job: str) -> None:
    flask = pytest.importorskip("flask")
    from lazycron.backends.redis import RedisBackend
    from lazycron.flask import LazyCron

    app = flask.Flask(__name__)
    app.config["LAZYCRON_BACKEND"] = f"{services.REDIS_URL}?prefix=p"
    extension = LazyCron(app, registry=registry_with(job, lambda: None, every="1h"))
    assert isinstance(extension.scheduler.backend, RedisBackend)
    bad = flask.Flask(__name__)
    bad.config["LAZYCRON_BACKEND"] = "memcached://x"
    with pytest.raises(lazycron.ConfigurationError, match="LAZYCRON_BACKEND"):
        LazyCron(bad, registry=Registry())


# -- skew: one host's clock 30 s ahead -----------------------------------------------------


@pytest.mark.parametrize("schedule", [{"every": "10s"}, {"cron": "* * * * *"}])
def test_a_host_30_s_ahead_still_runs_each_tick_once(
    shared_store: Store, job: str, schedule: dict[str, Any]
) -> None:
    """Hosts agree on the ticks whatever their clocks say: interval anchors live in the
    shared record and cron ticks come from the expression. Host B's clock is 30 s ahead
    of host A's (injected); both check every second of A's time for ten minutes. Each tick
    runs once, on whichever host reaches it first: skew moves when a tick runs, never
    how often."""
    runs: list[float] = []
    schedule = dict(schedule)  # the parameter is shared by every store's run
    cron = schedule.pop("cron", None)
    registry = Registry()
    args = (cron,) if cron else ()
    lazycron.job(*args, name=job, registry=registry, **schedule)(
        lambda: runs.append(lazycron.current_run().tick)  # type: ignore[union-attr]
    )
    clock_a, clock_b = FakeClock(), FakeClock()
    clock_b.advance(30)
    hosts = [
        Scheduler(registry, backend=shared_store.backend(), clock=clock, check_interval=0)
        for clock in (clock_a, clock_b)
    ]
    for _ in range(600):
        for clock in (clock_a, clock_b):
            clock.advance(1)
        for host in hosts:
            host.check()
            assert host.wait_idle(10)
    assert len(runs) == len(set(runs)), "a tick ran twice"
    every = 10 if not cron else 60
    assert len(runs) >= 600 // every - 2, runs
    assert all(b - a == every for a, b in itertools.pairwise(runs)), runs
