"""Jobs that use the ORM: connections are closed around each run, never leaked."""

from __future__ import annotations

import threading
from unittest import mock

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

import lazycron
from lazycron.django import runtime
from lazycron.testing import FakeClock


def test_a_job_thread_writes_through_the_orm_and_closes_its_connection(
    site, registry, clock: FakeClock
) -> None:
    from tests.django.testapp.models import Note

    seen: list[tuple[int, BaseDatabaseWrapper]] = []

    @lazycron.job(every=60, name="orm", registry=registry)
    def write() -> None:
        Note.objects.create(text="from a job")
        seen.append((threading.get_ident(), connections["default"]))

    scheduler = site(registry)
    client = Client()
    client.get("/sync/")
    assert scheduler.wait_idle(10)
    clock.advance(60)
    client.get("/sync/")
    assert scheduler.wait_idle(10)

    (thread_id, connection) = seen[0]
    assert thread_id != threading.get_ident()  # ran on a job thread
    assert Note.objects.filter(text="from a job").count() == 1
    assert connection.connection is None  # closed, not leaked


def test_close_old_connections_around_every_run(site, registry, clock: FakeClock) -> None:
    events: list[str] = []

    @lazycron.job(every=60, name="job", registry=registry)
    def job() -> None:
        events.append("run")

    scheduler = site(registry)
    with (
        mock.patch.object(runtime, "close_old_connections", lambda: events.append("old")),
        mock.patch.object(connections, "close_all", lambda: events.append("all")),
    ):
        # On a job thread: stale ones before, every connection of the thread after.
        client = Client()
        client.get("/sync/")
        assert scheduler.wait_idle(10)
        clock.advance(60)
        client.get("/sync/")
        assert scheduler.wait_idle(10)
        assert events == ["old", "run", "all"]

        # On the caller's thread (manage.py lazycron run): the caller keeps its own.
        events.clear()
        scheduler.run_now("job")
        assert events == ["old", "run", "old"]


def test_a_failing_job_still_closes_connections(site, registry, clock: FakeClock) -> None:
    @lazycron.job(every=60, name="job", registry=registry)
    def job() -> None:
        raise RuntimeError("boom")

    scheduler = site(registry)
    with mock.patch.object(runtime, "close_old_connections") as close_old:
        result = scheduler.run_now("job")
    assert result.ran is not None and result.ran.outcome == "failed"
    assert close_old.call_count == 2
