"""The Django database backend: its own connections, and what happens to them.

* a request's transaction (``ATOMIC_REQUESTS``) neither holds back nor undoes a claim;
* a connection killed with ``pg_terminate_backend`` mid-run: the next operation works;
* a thread lazycron started keeps no connection once it holds no lease.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lazycron._threads import start_thread
from lazycron.backends.base import BackendError

from . import services
from .helpers import Store, claim, done, first_sight


class ViewFailed(Exception):
    pass


@pytest.fixture
def atomic_requests(request: pytest.FixtureRequest) -> Iterator[Store]:
    """The PostgreSQL store's alias with ATOMIC_REQUESTS=True, as a site would set it."""
    store: Store = request.getfixturevalue("postgresql_store")
    from django.db import connections

    alias = store.spec["alias"]
    connections.settings[alias]["ATOMIC_REQUESTS"] = True
    try:
        yield store
    finally:
        connections.settings[alias]["ATOMIC_REQUESTS"] = False
        connections[alias].close()


def test_a_claim_inside_an_atomic_request_commits_at_once_and_survives_its_rollback(
    atomic_requests: Store, job: str
) -> None:
    """Django wraps the view in transaction.atomic() for the alias (make_view_atomic, as
    for a real request). The claim made inside it is seen by another host before the
    request ends, and stays when the view fails and the request's transaction rolls back."""
    from django.core.handlers.base import BaseHandler
    from django.db import connections
    from django.http import HttpResponse

    store = atomic_requests
    alias = store.spec["alias"]
    host, other = store.backend(), store.backend()
    first_sight(host, job)
    seen: dict[str, Any] = {}

    def view(request: object) -> HttpResponse:
        assert connections[alias].in_atomic_block, "the view did not run in a transaction"
        with connections[alias].cursor() as cursor:  # the request's own work
            cursor.execute("SELECT COUNT(*) FROM lazycron_jobrecord")
        seen["lease"] = claim(host, job, 60.0)
        seen["other"] = other.read(job)
        raise ViewFailed

    with pytest.raises(ViewFailed):
        BaseHandler().make_view_atomic(view)(object())

    assert seen["lease"] is not None
    assert seen["other"] is not None and seen["other"].lease_live, "claim not visible at once"
    after = other.read(job)
    assert after is not None and after.lease_live and after.state.last_tick == 60.0
    assert seen["lease"].finish(done)


def test_pg_terminate_backend_mid_run_the_next_operation_recovers(
    postgresql_store: Store, postgresql_db: services.Database, job: str
) -> None:
    from django.db import connections

    # A persistent connection, as CONN_MAX_AGE=None sites have: the one that gets killed.
    spec = {**postgresql_store.spec, "conf": {**postgresql_store.spec["conf"]}}
    alias = f"{spec['alias']}_persistent"
    spec["conf"]["CONN_MAX_AGE"] = None
    services.add_alias(alias, spec["conf"])
    backend = postgresql_store.backend(alias=alias)
    try:
        first_sight(backend, job)
        lease = claim(backend, job, 60.0)
        assert lease is not None
        connections[postgresql_store.spec["alias"]].close()
        killed = postgresql_db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (postgresql_db.conf["NAME"],),
        )
        assert killed, "no connection of the backend was found to kill"
        assert lease.renew(), "the first operation after the kill failed"
        assert lease.finish(done)
        snapshot = backend.read(job)
        assert snapshot is not None and snapshot.state.history[-1].outcome == "ok"
    finally:
        backend.close()  # type: ignore[attr-defined]  # this thread's connection: not left to the garbage collector
        services.remove_alias(alias)


def connections_to(db: services.Database) -> int:
    rows = db.execute(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (db.conf["NAME"],),
    )
    return int(rows[0][0])


def settled(db: services.Database, expected: int) -> int:
    # The server notices a closed connection a moment after the client closed it.
    deadline = time.monotonic() + 10
    while (count := connections_to(db)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def stable_count(db: services.Database) -> int:
    previous = connections_to(db)
    for _ in range(100):
        time.sleep(0.1)
        current = connections_to(db)
        if current == previous:
            return current
        previous = current
    return previous


def test_a_lazycron_thread_connects_once_and_leaves_no_connection_behind(
    postgresql_store: Store, postgresql_db: services.Database, job: str
) -> None:
    """Django's default ``CONN_MAX_AGE = 0`` closes a connection after each use. A thread
    lazycron started (a dispatcher reading many jobs, a job's read, claim and finish) uses
    one connection for its short life instead, and closes it as it ends."""
    from django.db import connections

    assert postgresql_store.spec["conf"].get("CONN_MAX_AGE", 0) == 0  # Django's default
    backend = postgresql_store.backend()
    first_sight(backend, job)
    backend.close()  # type: ignore[attr-defined]
    connections[postgresql_store.spec["alias"]].close()
    gc.collect()  # backends of earlier tests, and the connections they still hold
    baseline = stable_count(postgresql_db)
    during: list[int] = []
    sessions: set[int] = set()

    def job_thread() -> None:
        sessions.add(backend_pid(backend))
        backend.read(job)
        lease = claim(backend, job, 60.0)
        assert lease is not None
        during.append(connections_to(postgresql_db))
        assert lease.finish(done)
        backend.read(job)
        sessions.add(backend_pid(backend))

    start_thread(job_thread, "lazycron:test").join(30)
    assert len(sessions) == 1, "the thread connected more than once"
    assert during == [baseline + 1]
    assert settled(postgresql_db, baseline) == baseline, "the job thread left a connection"


def test_a_heartbeat_thread_holds_no_connection_between_renewals(
    postgresql_store: Store, postgresql_db: services.Database, job: str
) -> None:
    """While a job runs, its heartbeat renews the lease once a third of a lease: it
    connects for each renewal rather than hold a second connection idle for the run."""
    from django.db import connections

    backend = postgresql_store.backend()
    first_sight(backend, job)
    backend.close()  # type: ignore[attr-defined]
    connections[postgresql_store.spec["alias"]].close()
    gc.collect()
    baseline = stable_count(postgresql_db)
    between_renewals: list[int] = []

    def job_thread() -> None:
        lease = claim(backend, job, 60.0)
        assert lease is not None

        def heartbeat() -> None:
            for _ in range(2):
                assert lease.renew()
                between_renewals.append(settled(postgresql_db, baseline + 1))

        start_thread(heartbeat, "lazycron-lease:test").join(30)
        assert lease.finish(done)

    start_thread(job_thread, "lazycron:test").join(30)
    assert between_renewals == [baseline + 1] * 2, "the heartbeat kept a connection"
    assert settled(postgresql_db, baseline) == baseline


def test_a_callers_thread_honours_conn_max_age_as_django_does(
    postgresql_store: Store, job: str
) -> None:
    """On a thread lazycron did not start (a management command, ``run_now`` in a view),
    the connection is the caller's to keep or not: ``CONN_MAX_AGE = 0`` reconnects."""
    backend = postgresql_store.backend()
    try:
        first_sight(backend, job)
        first = backend_pid(backend)
        backend.read(job)
        assert backend_pid(backend) != first
    finally:
        backend.close()  # type: ignore[attr-defined]


def test_prepare_names_the_missing_migration(request: pytest.FixtureRequest, tmp_path: Any) -> None:
    request.getfixturevalue("sqlite_store")  # Django is set up
    from lazycron import ConfigurationError
    from lazycron.django.database import DatabaseBackend

    alias = "lazycron_unmigrated"
    services.add_alias(
        alias, {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "empty.db")}
    )
    try:
        with pytest.raises(ConfigurationError, match=r"manage\.py migrate lazycron"):
            DatabaseBackend(alias).prepare()
        with pytest.raises(BackendError, match="migrate lazycron"):
            DatabaseBackend(alias).read("job")
    finally:
        services.remove_alias(alias)


def test_an_unknown_alias_is_refused_at_construction(request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("sqlite_store")
    from lazycron import ConfigurationError
    from lazycron.django.database import DatabaseBackend

    with pytest.raises(ConfigurationError, match=r"not in settings\.DATABASES"):
        DatabaseBackend("no-such-alias")


def test_location_hides_the_password(postgresql_store: Store) -> None:
    from lazycron.django.database import DatabaseBackend

    services.add_alias("lazycron_secret", {**postgresql_store.spec["conf"], "PASSWORD": "s3cret"})
    try:
        location = DatabaseBackend("lazycron_secret").location
    finally:
        services.remove_alias("lazycron_secret")
    assert "s3cret" not in location
    assert location.startswith("postgresql://127.0.0.1:5432/lazycron_t_")


def backend_pid(backend: Any) -> int:
    def query(connection: Any) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])

    result: int = backend._run(query)
    return result


def test_a_forked_child_neither_uses_nor_ends_the_parents_connection(
    postgresql_store: Store, job: str
) -> None:
    """A preloading server forks workers from a process that may have used the backend:
    the child must open its own connection, and must not close the parent's (libpq's
    close tells the server to end the session)."""
    spec = {**postgresql_store.spec, "conf": {**postgresql_store.spec["conf"]}}
    alias = f"{spec['alias']}_forked"
    spec["conf"]["CONN_MAX_AGE"] = None
    services.add_alias(alias, spec["conf"])
    backend = postgresql_store.backend(alias=alias)
    try:
        first_sight(backend, job)
        parent = backend_pid(backend)
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through the pipe
            try:
                pid = backend_pid(backend) if backend.read(job) is not None else -1
                os.write(writer, str(pid).encode())
            finally:
                os._exit(0)
        os.close(writer)
        with os.fdopen(reader) as pipe:
            child_pid = int(pipe.read() or 0)
        os.waitpid(child, 0)
        assert child_pid not in {0, -1, parent}, "the child used the parent's connection"
        assert backend_pid(backend) == parent, "the parent's connection was ended by the child"
    finally:
        services.remove_alias(alias)
