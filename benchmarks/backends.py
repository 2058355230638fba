"""Backends side by side: files, Redis, PostgreSQL (Django database), SQLite (same).

    .venv/bin/python benchmarks/backends.py [--quick]

1. claim latency: one ``claim()`` (after its ``read()``), then the whole cycle a run
   costs (read, claim, finish), p50 and p99 over N cycles, one process, each cycle on a
   thread of its own as a job's attempt is;
2. claims per second with 8 processes, each claiming ticks of a job of its own (each
   cycle on a thread of its own, too);
3. a check with 1,000 registered jobs, made on a lazycron thread as the dispatcher makes
   it: first sight of all of them, a check where all are due (1,000 no-op runs), and a
   check where none is (1,000 reads);
4. the fast path with the Redis backend beside the file backend (WSGI, ASGI, the Django
   middleware): it never touches the store, so the two must be the same.

Needs the local services (Redis 127.0.0.1:6379, PostgreSQL 127.0.0.1:5432 with trust);
each run uses a key prefix and a database of its own and removes them. A missing service
is reported as skipped in the results. Writes benchmarks/results/backends.json.
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fmt, load, machine, save, summary

import lazycron
from lazycron import Registry, Scheduler
from lazycron._threads import start_thread
from lazycron.backends.base import Backend
from lazycron.state import JobState, Run
from lazycron.testing import FakeClock

REDIS_URL = os.environ.get("LAZYCRON_TEST_REDIS", "redis://127.0.0.1:6379/0")
PG = {"HOST": "127.0.0.1", "PORT": "5432", "USER": os.environ.get("PGUSER", "postgres")}
T = TypeVar("T")
RUN = uuid.uuid4().hex[:8]
PREFIX = f"lazycron-bench-{RUN}"
PG_NAME = f"lazycron_bench_{RUN}"


# -- the stores ----------------------------------------------------------------------------


def setup_django(tmp: Path) -> list[str]:
    """Django with a SQLite alias and, if PostgreSQL answers, a private database (two
    aliases: default connection handling, and persistent connections). The aliases made."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    databases: dict[str, Any] = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp / "db.sqlite3")}
    }
    try:
        import psycopg

        with psycopg.connect(dbname="test", autocommit=True, connect_timeout=5, **_pg()) as c:
            c.execute(f'CREATE DATABASE "{PG_NAME}"')
        pg = {"ENGINE": "django.db.backends.postgresql", "NAME": PG_NAME, **PG}
        databases["pg"] = pg
        databases["pg_persistent"] = {**pg, "CONN_MAX_AGE": 600}
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}")
    settings.configure(
        INSTALLED_APPS=["lazycron"], DATABASES=databases, USE_TZ=True, TIME_ZONE="UTC"
    )
    django.setup()
    import sqlite3

    with sqlite3.connect(databases["default"]["NAME"]) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    for alias in ("default", "pg"):
        if alias in databases:
            call_command("migrate", "lazycron", database=alias, verbosity=0)
    return list(databases)


def _pg() -> dict[str, Any]:
    return {"host": PG["HOST"], "port": int(PG["PORT"]), "user": PG["USER"]}


def teardown(aliases: list[str]) -> None:
    if "pg" in aliases:
        from django.db import connections

        connections.close_all()
        import psycopg

        with psycopg.connect(dbname="test", autocommit=True, **_pg()) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
    try:
        import redis

        with redis.Redis.from_url(REDIS_URL, socket_timeout=5) as client:
            keys = list(client.scan_iter(match=f"{{{PREFIX}*"))
            if keys:
                client.delete(*keys)
    except Exception:
        pass


def stores(tmp: Path, aliases: list[str]) -> dict[str, Callable[[], Backend]]:
    """name -> a factory of a new backend on that store (a new "host")."""
    from lazycron.backends.file import FileBackend

    made: dict[str, Callable[[], Backend]] = {"file": lambda: FileBackend(tmp / "files")}
    try:
        import redis

        with redis.Redis.from_url(REDIS_URL, socket_timeout=2) as client:
            client.ping()
        from lazycron.backends.redis import RedisBackend

        made["redis"] = lambda: RedisBackend(REDIS_URL, prefix=PREFIX)
    except Exception as exc:
        print(f"Redis skipped: {exc}")
    from lazycron.django.database import DatabaseBackend

    if "pg" in aliases:
        made["postgresql (CONN_MAX_AGE=0)"] = lambda: DatabaseBackend("pg")
        made["postgresql (CONN_MAX_AGE=600)"] = lambda: DatabaseBackend("pg_persistent")
    made["sqlite (WAL)"] = lambda: DatabaseBackend("default")
    return made


# -- 1. claim latency --------------------------------------------------------------------


def claimed(state: JobState, tick: float) -> JobState:
    new = copy.deepcopy(state)
    new.last_tick = tick
    new.current = Run(run_id=uuid.uuid4().hex, tick=tick, started=tick, pid=os.getpid(), host="b")
    return new


def finish(state: JobState) -> None:
    run, state.current = state.current, None
    assert run is not None
    run.outcome, run.ended = "ok", run.started
    state.record(run, 50)


def on_lazycron_thread(work: Callable[[], T]) -> T:
    """``work()`` on a thread lazycron starts (as its dispatcher and job threads are), so
    per-thread resources behave as in production: the database backend keeps one
    connection for the thread's life and closes it as the thread ends."""
    out: list[T] = []
    failed: list[BaseException] = []

    def call() -> None:
        try:
            out.append(work())
        except BaseException as exc:
            failed.append(exc)

    start_thread(call, "lazycron-bench").join()
    if failed:
        raise failed[0]
    return out[0]


def one_cycle(backend: Backend, job: str, tick: int) -> tuple[float, float]:
    """Read, claim and finish tick ``tick``: (claim seconds, whole cycle seconds)."""
    began = time.perf_counter()
    snapshot = backend.read(job)
    assert snapshot is not None
    state = claimed(snapshot.state, float(tick))
    before_claim = time.perf_counter()
    lease = backend.claim(job, state, expected=snapshot.version)
    claim_time = time.perf_counter() - before_claim
    assert lease is not None, "uncontended claim lost"
    assert lease.finish(finish)
    return claim_time, time.perf_counter() - began


def cycles(backend: Backend, job: str, count: int) -> tuple[list[float], list[float]]:
    """``count`` claim cycles on ``job``, each on a lazycron thread of its own, as a job's
    attempt is: (claim seconds, whole cycle seconds)."""
    backend.prepare()
    backend.write(job, JobState(first_seen=0.0, schedule="every 1s"), expected=None)
    claim_times, cycle_times = [], []
    for tick in range(1, count + 1):
        claim_time, cycle_time = on_lazycron_thread(partial(one_cycle, backend, job, tick))
        claim_times.append(claim_time)
        cycle_times.append(cycle_time)
    return claim_times, cycle_times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_latency(made: dict[str, Callable[[], Backend]], count: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, factory in made.items():
        claim_times, cycle_times = cycles(factory(), f"latency-{RUN}-{len(out)}", count)
        out[name] = {
            "claim_p50_ms": percentile(claim_times, 0.5) * 1000,
            "claim_p99_ms": percentile(claim_times, 0.99) * 1000,
            "cycle_p50_ms": percentile(cycle_times, 0.5) * 1000,
            "cycle_p99_ms": percentile(cycle_times, 0.99) * 1000,
            "cycles": count,
        }
        r = out[name]
        print(
            f"{name:<30} claim p50 {r['claim_p50_ms']:.2f} ms p99 {r['claim_p99_ms']:.2f} ms; "
            f"cycle p50 {r['cycle_p50_ms']:.2f} ms p99 {r['cycle_p99_ms']:.2f} ms"
        )
    return out


# -- 2. claims per second, 8 processes ---------------------------------------------------------


def _claimer(name: str, index: int, seconds: float, queue: Any) -> None:
    made = _FACTORIES[name]()
    job = f"throughput-{RUN}-{name}-{index}"  # one per store: two share PostgreSQL
    made.prepare()
    made.write(job, JobState(first_seen=0.0, schedule="every 1s"), expected=None)
    deadline, tick = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        tick += 1
        on_lazycron_thread(partial(one_cycle, made, job, tick))
    queue.put(tick)


_FACTORIES: dict[str, Callable[[], Backend]] = {}


def bench_throughput(
    made: dict[str, Callable[[], Backend]], processes: int, seconds: float
) -> dict[str, Any]:
    _FACTORIES.update(made)
    context = multiprocessing.get_context("fork")
    out: dict[str, Any] = {}
    for name in made:
        queue = context.Queue()
        workers = [
            context.Process(target=_claimer, args=(name, i, seconds, queue))
            for i in range(processes)
        ]
        for worker in workers:
            worker.start()
        total = sum(queue.get(timeout=seconds + 60) for _ in workers)
        for worker in workers:
            worker.join()
        out[name] = {"claims_per_s": total / seconds, "processes": processes, "seconds": seconds}
        print(f"{name:<30} {total / seconds:8.0f} claim cycles/s with {processes} processes")
    return out


# -- 3. a check with 1,000 jobs -----------------------------------------------------------------


def bench_many_jobs(made: dict[str, Callable[[], Backend]], jobs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, factory in made.items():
        registry = Registry()
        for n in range(jobs):
            lazycron.job(every="1h", name=f"many-{RUN}-{len(out)}-{n}", registry=registry)(
                lambda: None
            )
        clock = FakeClock()
        scheduler = Scheduler(registry, backend=factory(), clock=clock, check_interval=0)
        timings = {}
        for label in ("first_sight_s", "all_due_s", "none_due_s"):
            if label == "all_due_s":
                clock.advance(3601)
            began = time.perf_counter()
            runs = on_lazycron_thread(partial(scheduler.tick, timeout=120))
            timings[label] = time.perf_counter() - began
            if label == "all_due_s":
                assert len(runs) == jobs, f"{name}: {len(runs)} runs of {jobs}"
        out[name] = {**timings, "jobs": jobs}
        print(
            f"{name:<30} {jobs} jobs: first sight {timings['first_sight_s']:.2f} s, all due "
            f"{timings['all_due_s']:.2f} s, none due {timings['none_due_s']:.2f} s"
        )
    return out


# -- 4. the fast path, Redis beside files -------------------------------------------------------


def bench_fastpath(made: dict[str, Callable[[], Backend]], rounds: int, number: int) -> Any:
    import fastpath
    from django.http import HttpResponse
    from django.test import RequestFactory

    from lazycron.django import runtime
    from lazycron.middleware import LazyCronMiddleware

    schedulers: dict[str, Scheduler] = {}
    for name in ("file", "redis"):
        if name not in made:
            continue
        registry = Registry()
        lazycron.job(every="1h", name=f"fast-{RUN}", registry=registry)(lambda: None)
        scheduler = Scheduler(registry, backend=made[name]())
        scheduler.check()
        assert scheduler.wait_idle(10) and not scheduler.due()
        schedulers[name] = scheduler
    if "redis" not in schedulers:
        return {"skipped": "no Redis"}
    response, request = HttpResponse(b"hello"), RequestFactory().get("/")
    middleware = LazyCronMiddleware(lambda request: response)

    def django_timer(scheduler: Scheduler) -> Callable[[], float]:
        timed = fastpath.timer("app(request)", {"app": middleware, "request": request}, number)

        def run() -> float:
            runtime.install(scheduler)
            return timed()

        return run

    variants: dict[str, Callable[[], float]] = {}
    for name, scheduler in schedulers.items():
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
        wsgi = fastpath.WSGIMiddleware(fastpath.wsgi_app, scheduler=scheduler)
        asgi = fastpath.ASGIMiddleware(fastpath.asgi_app, scheduler=scheduler)
        scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
        variants[f"WSGI {name}"] = fastpath.timer(
            "app(environ, start_response)",
            {"app": wsgi, "environ": environ, "start_response": lambda s, h: None},
            number,
        )
        variants[f"ASGI {name}"] = fastpath.timer(
            fastpath.ASGI_STMT,
            {"app": asgi, "scope": scope, "receive": fastpath.receive, "send": fastpath.send},
            number,
        )
        variants[f"Django middleware {name}"] = django_timer(scheduler)
    times = fastpath.interleaved(variants, rounds)
    runtime.reset()
    out = {name: summary(values) for name, values in times.items()}
    for name, stat in out.items():
        print(f"{name:<30} {fmt(stat, 'ns')}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short: fewer cycles and rounds")
    args = parser.parse_args()
    count = 200 if args.quick else 2000
    tmp = Path(tempfile.mkdtemp(prefix="lazycron-bench-backends-"))
    aliases: list[str] = []
    try:
        aliases = setup_django(tmp)
        made = stores(tmp, aliases)
        results = {
            "machine": machine(),
            "quick": args.quick,
            "latency": bench_latency(made, count),
            "throughput": bench_throughput(made, 8, 2.0 if args.quick else 10.0),
            "many_jobs": bench_many_jobs(made, 1000),
            "fastpath_ns": bench_fastpath(
                made, 4 if args.quick else 15, 50_000 if args.quick else 300_000
            ),
        }
        save("backends", results)
    finally:
        teardown(aliases)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def render(lines: list[str]) -> None:
    """The section of BENCHMARKS.md, from benchmarks/results/backends.json (run_all.py)."""
    data = load("backends")
    if not data:
        return
    add = lines.append
    add("## 8. Backends: files, Redis, the Django database\n")
    add(
        f"Command: `{data['command']}`. One process unless said; each store private to the "
        "run (a key prefix, a database of its own). A *cycle* is what one run costs the "
        "store: read, claim, finish, on a thread of its own as a job's attempt is. "
        "PostgreSQL is shown with Django's default `CONN_MAX_AGE = 0` and with persistent "
        "connections: a thread lazycron starts keeps one connection for its life whatever "
        "`CONN_MAX_AGE` says, so with 0 a cycle, or a whole check, connects once.\n"
    )
    add("| backend | claim p50 | claim p99 | cycle p50 | cycle p99 | cycles/s, 8 processes |")
    add("|---|---|---|---|---|---|")
    for name, r in data["latency"].items():
        rate = data["throughput"].get(name, {}).get("claims_per_s")
        add(
            f"| {name} | {r['claim_p50_ms']:.2f} ms | {r['claim_p99_ms']:.2f} ms | "
            f"{r['cycle_p50_ms']:.2f} ms | {r['cycle_p99_ms']:.2f} ms | "
            f"{'' if rate is None else f'{rate:.0f}'} |"
        )
    add("")
    add(
        "A check with 1,000 registered jobs (every 1 h), `Scheduler.tick()` on a lazycron "
        "thread (as the dispatcher runs it), timed whole:\n"
    )
    add("| backend | first sight of all | all due (1,000 no-op runs) | none due (1,000 reads) |")
    add("|---|---|---|---|")
    for name, r in data["many_jobs"].items():
        add(
            f"| {name} | {r['first_sight_s']:.2f} s | {r['all_due_s']:.2f} s | "
            f"{r['none_due_s']:.2f} s |"
        )
    add("")
    fast = data["fastpath_ns"]
    if "skipped" not in fast:
        add("The fast path (nothing due), Redis beside files, interleaved:\n")
        add("| stack | file backend | Redis backend |")
        add("|---|---|---|")
        for stack in ("WSGI", "ASGI", "Django middleware"):
            add(
                f"| {stack} | {fmt(fast[f'{stack} file'], 'ns')} | "
                f"{fmt(fast[f'{stack} redis'], 'ns')} |"
            )
        add(
            "\nWSGI and ASGI are the whole middleware around a trivial app; per call, not "
            "added cost (compare §1). The store is never on this path.\n"
        )


if __name__ == "__main__":
    raise SystemExit(main())
