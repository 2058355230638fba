"""Two hosts, one store: exactly once across machines, under load, on real servers.

Each host is a gunicorn with 3 workers started from a directory of its own, sharing no
file with the other: only a Redis (a key prefix of the test's own), or a PostgreSQL
database (created and dropped by the test) through the Django site's ``BACKEND =
"database"``. After ~20 s of load on both: one run per tick, no overlap, runs on both
hosts, every response a 200.

The lease is 2 s and ``slow`` takes 6.5 s (over three leases) in the Redis run: only the
heartbeat keeps another host from claiming it mid-run (apscheduler#864).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lazycron.backends import open_backend
from tests.backends import services
from tests.integration.servers import APPS_DIR, REPO_ROOT

from .hosts import LEASE, NAMES, Fleet, fleet

LOAD = 20.0
SITE = APPS_DIR / "cronsite.py"
DJSITE = Path(__file__).parent / "djsite"


def check_once_per_tick(fleet: Fleet, *, coverage_from: float, coverage_to: float) -> None:
    assert not fleet.non_200(), f"responses that were not 200: {dict(fleet.non_200())}"
    for job in ("fast", "slow"):
        runs = fleet.runs_of(job)
        assert runs, f"{job} never ran"
        assert not fleet.duplicates(job), f"{job}: ticks run twice: {fleet.duplicates(job)}"
        assert not fleet.overlaps(job), f"{job} overlapped itself: {fleet.overlaps(job)[:3]}"
        unended = [run for _, run in runs if run.end is None]
        assert not unended, f"{job}: runs that never ended: {unended}"
    assert fleet.hosts_that_ran("fast") == set(NAMES), "one host ran every tick"
    # a run for nearly every second of steady load (none of them twice, above)
    ticks = {run.tick for _, run in fleet.runs_of("fast")}
    expected = int(coverage_to - coverage_from)
    within = [t for t in ticks if coverage_from <= t < coverage_to]
    assert len(within) >= 0.8 * expected, f"fast ran for {len(within)} of {expected} ticks"


def test_two_gunicorn_hosts_on_one_redis(base_dir: Path, redis_url: str) -> None:
    url = f"{redis_url}&lease={LEASE:g}"
    env = {"LAZYCRON_BACKEND": url, "CHECK_INTERVAL": "0", "SLOW_SLEEP": "6.5"}
    with fleet(base_dir, SITE, env) as hosts:
        hits = hosts.drive(LOAD)
        hosts.wait_for_runs_to_end(10)
    start = min(h.began for h in hits) + 2
    check_once_per_tick(hosts, coverage_from=start, coverage_to=start + LOAD - 3)
    # lazycron's own records agree: every run names the host that made it.
    backend = open_backend(url)
    snapshot = backend.read("fast")
    assert snapshot is not None
    assert {run.host for run in snapshot.state.history} == set(NAMES)
    backend.client.close()  # type: ignore[attr-defined]
    assert len(hosts.runs_of("slow")) >= 2


def migrate(db: services.Database) -> dict[str, str]:
    env = {
        **os.environ,
        "MULTIHOST_DB": json.dumps(db.conf),
        "DJANGO_SETTINGS_MODULE": "tests.multihost.djsite.settings",
        "PYTHONPATH": str(REPO_ROOT),
    }
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "lazycron", "-v0"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    # Explicitly: the test process may have another site's (tests/django sets its own).
    return {
        "MULTIHOST_DB": env["MULTIHOST_DB"],
        "LEASE": f"{LEASE:g}",
        "DJANGO_SETTINGS_MODULE": env["DJANGO_SETTINGS_MODULE"],
    }


def test_two_django_hosts_on_one_postgresql_database(
    base_dir: Path, postgresql: services.Database
) -> None:
    env = migrate(postgresql)
    own_dirs = {name: {"STATE_DIR": str(base_dir / f"{name}-state")} for name in NAMES}
    with fleet(base_dir, DJSITE / "wsgi.py", env, per_host=own_dirs) as hosts:
        hits = hosts.drive(LOAD)
        hosts.wait_for_runs_to_end(10)
    start = min(h.began for h in hits) + 2
    check_once_per_tick(hosts, coverage_from=start, coverage_to=start + LOAD - 3)
    from lazycron.django.database import CHECK_MARK_KEY  # the site's last-check row

    job_rows = "SELECT name FROM lazycron_jobrecord WHERE key <> %s"
    assert sorted(in_database(postgresql, job_rows, (CHECK_MARK_KEY,))) == [
        ("fast",),
        ("slow",),
    ]  # one record per job, shared by both hosts


def in_database(
    db: services.Database, statement: str, params: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    """A statement run in the test's own database (not the admin one)."""
    import psycopg

    with psycopg.connect(
        host=db.conf["HOST"], port=int(db.conf["PORT"]), user=db.conf["USER"],
        dbname=db.conf["NAME"], autocommit=True, connect_timeout=5,
    ) as connection:  # fmt: skip
        return list(connection.execute(statement, params or None).fetchall())
