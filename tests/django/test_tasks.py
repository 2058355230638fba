"""``@lazycron.job`` on a task of Django's tasks framework: each claimed tick enqueues it.

Django 6's ``django.tasks``, or the django-tasks backport on older Django (see
``TASKS_MODULE`` in settings.py). The test site's task backends: ``default`` runs a task
inline (ImmediateBackend), ``dummy`` keeps it in memory (DummyBackend, queue ``beat``).
The shared-transaction guarantee with a database task backend is proved with real
processes in tests/integration/test_tasks_postgresql.py.
"""

from __future__ import annotations

import importlib
import io
import json
import threading
from argparse import Namespace
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from django.conf import settings
from django.test import Client, override_settings

import lazycron
from lazycron import JobDefinitionError, Registry
from lazycron.cli import execute, status_row
from lazycron.decision import NOT_ENQUEUED_ERROR
from lazycron.runner import in_job_thread
from lazycron.state import Run
from lazycron.testing import FakeClock

tasks_module: Any = importlib.import_module(settings.TASKS_MODULE)
task = tasks_module.task
task_backends = tasks_module.task_backends
task_enqueued = importlib.import_module(f"{settings.TASKS_MODULE}.signals").task_enqueued

# What the tasks saw, by the test that declared them.
calls: list[dict[str, Any]] = []


def report(tick: str | None = None) -> str:
    calls.append(
        {"thread": threading.current_thread(), "in_job_thread": in_job_thread(), "tick": tick}
    )
    return "done"


def report_tick(tick: str) -> str:
    return report(tick)


# A task the DummyBackend keeps: at module level, under its function's name, because
# Django 6's DummyBackend copies its results, and a copy finds its task by that name.
@task(backend="dummy", queue_name="beat")  # type: ignore[untyped-decorator]
def queued() -> None:
    raise AssertionError("a DummyBackend never runs its tasks")


def stored() -> None:
    """Kept as a row by the database task backend (no worker runs in these tests)."""


if "database" in settings.TASKS:
    stored = task(backend="database")(stored)


def needs_argument(path: str) -> None:
    pass


def takes_context(context: Any) -> None:
    calls.append({"context": context})


def explode() -> None:
    raise RuntimeError("the task itself failed")


@pytest.fixture(autouse=True)
def fresh() -> Any:
    calls.clear()
    yield
    calls.clear()


@pytest.fixture
def enqueued() -> Any:
    """The results of every enqueue, from any thread (a DummyBackend keeps its results per
    thread, so the test's thread cannot read the job thread's)."""
    results: list[Any] = []

    def collect(sender: Any, task_result: Any, **kwargs: Any) -> None:
        results.append(task_result)

    task_enqueued.connect(collect, weak=False)
    yield results
    task_enqueued.disconnect(collect)


def run_tick(site: Any, registry: Registry, clock: FakeClock, client: Client) -> Any:
    """First sight, then one tick later, one request: the tick is claimed."""
    scheduler = site(registry)
    client.get("/sync/")
    assert scheduler.wait_idle(10)
    clock.advance(60)
    client.get("/sync/")
    assert scheduler.wait_idle(10)
    return scheduler


def last_run(site_scheduler: Any, name: str) -> Run:
    [status] = site_scheduler.status([name])
    assert status.state is not None and status.state.last_run is not None
    run: Run = status.state.last_run
    return run


def test_immediate_backend_runs_the_task_on_the_job_thread_never_the_request(
    site, registry, clock
) -> None:
    lazycron.job(every=60, name="beat", registry=registry)(task()(report))
    client = Client()
    scheduler = site(registry)
    request_threads: list[threading.Thread] = []
    client.get("/sync/")
    assert scheduler.wait_idle(10)
    clock.advance(60)
    request_threads.append(threading.current_thread())  # Client serves on this thread
    assert client.get("/sync/").content == b"sync"
    assert scheduler.wait_idle(10)

    [call] = calls
    assert call["in_job_thread"] is True
    assert call["thread"] not in request_threads
    run = last_run(scheduler, "beat")
    assert run.outcome == "enqueued"
    assert run.task_backend == "default"
    assert run.task_status == "SUCCESSFUL"  # inline: finished by the time it was enqueued
    assert run.task_id


def test_dummy_backend_keeps_one_task_per_tick_on_its_queue(
    site, registry, clock, enqueued
) -> None:
    lazycron.job(every=60, name="beat", registry=registry)(queued)
    client = Client()
    scheduler = run_tick(site, registry, clock, client)
    for _ in range(3):  # more requests in the same tick: nothing more
        client.get("/sync/")
        assert scheduler.wait_idle(10)
    clock.advance(60)
    client.get("/sync/")
    assert scheduler.wait_idle(10)

    results = enqueued
    assert len(results) == 2
    assert {result.task.queue_name for result in results} == {"beat"}
    assert calls == []  # enqueued, not run: the dummy backend keeps tasks in memory
    run = last_run(scheduler, "beat")
    assert (run.outcome, run.task_id, run.task_status) == ("enqueued", results[-1].id, "READY")


def test_pass_tick_gives_the_task_its_tick_as_utc_iso_text(site, registry, clock) -> None:
    lazycron.job("* * * * *", name="beat", pass_tick=True, registry=registry)(task()(report_tick))
    client = Client()
    scheduler = site(registry)
    client.get("/sync/")
    assert scheduler.wait_idle(10)
    clock.advance(120)
    client.get("/sync/")
    assert scheduler.wait_idle(10)

    [call] = calls
    tick = datetime.fromisoformat(call["tick"])
    assert tick.tzinfo is not None and tick.utcoffset() == timedelta(0)
    assert tick.timestamp() == last_run(scheduler, "beat").tick
    assert tick.second == 0  # on the cron grid


def test_a_task_that_needs_arguments_is_refused_at_declaration(registry) -> None:
    with pytest.raises(JobDefinitionError, match=r"needs_argument\(path: .str.\).*defaults"):
        lazycron.job(every=60, registry=registry)(task()(needs_argument))
    with pytest.raises(JobDefinitionError, match="`tick` keyword parameter"):
        lazycron.job(every=60, pass_tick=True, registry=registry)(task()(explode))
    assert len(registry) == 0


def test_a_task_taking_its_context_needs_no_other_argument(registry) -> None:
    lazycron.job(every=60, registry=registry)(task(takes_context=True)(takes_context))
    assert len(registry) == 1


def test_pass_tick_on_a_plain_function_is_refused(registry) -> None:
    with pytest.raises(JobDefinitionError, match=r"pass_tick=True applies to a task"):
        lazycron.job(every=60, pass_tick=True, registry=registry)(report)


def test_a_task_on_a_queue_or_backend_not_configured_is_refused(registry) -> None:
    """The framework checks a task when it is made; settings can change after that (a
    queue dropped, a backend renamed), and the job's declaration checks again."""
    beat = queued
    queues_changed = {**settings.TASKS, "dummy": {**settings.TASKS["dummy"], "QUEUES": ["x"]}}
    with (
        override_settings(TASKS=queues_changed),
        pytest.raises(JobDefinitionError, match=r"queue 'beat'.*settings.TASKS"),
    ):
        lazycron.job(every=60, registry=registry)(beat)
    with (
        override_settings(TASKS={"default": settings.TASKS["default"]}),
        pytest.raises(JobDefinitionError, match=r"task backend 'dummy'.*settings.TASKS"),
    ):
        lazycron.job(every=60, registry=registry)(beat)
    assert len(registry) == 0


def test_the_decorator_returns_the_task_and_names_the_job_after_its_function(
    registry,
) -> None:
    beat = task()(report)
    assert lazycron.job(every=60, registry=registry)(beat) is beat
    [job] = registry
    assert job.name == f"{__name__}.report"
    assert job.handoff is not None and job.func is report


def test_a_failed_enqueue_is_recorded_as_failed_with_the_error(
    site, registry, clock, monkeypatch
) -> None:
    lazycron.job(every=60, name="beat", registry=registry)(queued)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(type(task_backends["dummy"]), "enqueue", refuse)
    run = last_run(run_tick(site, registry, clock, Client()), "beat")
    assert run.outcome == "failed"
    assert run.error == "ConnectionError: the broker is down"
    assert run.task_id is None


def test_status_shows_the_enqueued_run_and_the_tasks_own_status(site, registry, clock) -> None:
    lazycron.job(every=60, name="beat", registry=registry)(task()(explode))
    scheduler = run_tick(site, registry, clock, Client())

    out = io.StringIO()
    assert execute(scheduler, "status", Namespace(json=False), out) == 0
    [line] = [row for row in out.getvalue().splitlines() if row.startswith("beat")]
    assert "enqueued (FAILED)" in line  # the inline backend ran it: the task's own status

    out = io.StringIO()
    execute(scheduler, "status", Namespace(json=True), out)
    [row] = json.loads(out.getvalue())["jobs"]
    assert row["last_run"]["outcome"] == "enqueued"
    assert row["last_run"]["task_status"] == "FAILED"
    assert row["last_run"]["task_backend"] == "default"


def test_status_asks_a_backend_that_keeps_results_for_the_final_status(
    site, registry, clock
) -> None:
    """A worker finishing the task after the tick: status shows its final status, not the
    READY it was enqueued with."""
    lazycron.job(every=60, name="beat", registry=registry)(queued)
    scheduler = run_tick(site, registry, clock, Client())
    [status] = scheduler.status(["beat"])
    assert status_row(status, clock.time())["last_run"]["task_status"] == "READY"

    class Finished:
        status = "SUCCESSFUL"

    backend = task_backends["dummy"]
    backend.supports_get_result = True  # an instance attribute: this backend object only
    backend.get_result = lambda result_id: Finished()
    try:
        assert status_row(status, clock.time())["last_run"]["task_status"] == "SUCCESSFUL"
    finally:
        del backend.supports_get_result, backend.get_result


def test_a_death_between_claim_and_enqueue_is_settled_as_claimed_not_enqueued(
    site, registry, clock, monkeypatch, enqueued
) -> None:
    """Without a shared transaction the claim commits first; a process that dies before
    enqueueing leaves a claimed run, which the next attempt settles as interrupted."""
    lazycron.job(every=60, name="beat", registry=registry)(queued)
    scheduler = site(registry)
    Client().get("/sync/")
    assert scheduler.wait_idle(10)
    clock.advance(60)

    class Died(BaseException):
        """Stands for the process dying: nothing after the claim happens."""

    def die(*args: Any, **kwargs: Any) -> None:
        raise Died

    monkeypatch.setattr(type(task_backends["dummy"]), "enqueue", die)
    job = registry.get("beat")
    with pytest.raises(Died):
        scheduler.runner._hand_off(*_claim_decision(scheduler, job))
    monkeypatch.undo()
    # The dead holder's lease is gone with it (the file lock is freed on release).
    clock.advance(60)
    scheduler.tick()
    [status] = scheduler.status(["beat"])
    assert status.state is not None
    interrupted = [run for run in status.state.history if run.outcome == "interrupted"]
    assert [run.error for run in interrupted] == [NOT_ENQUEUED_ERROR]
    assert len(enqueued) == 1  # the next tick's task, and none for the interrupted one
    assert status.state.last_run is not None and status.state.last_run.outcome == "enqueued"


def _claim_decision(scheduler: Any, job: Any) -> tuple[Any, ...]:
    from lazycron.decision import Action, decide

    runner = scheduler.runner
    snapshot = runner.backend.read(job.name)
    decision = decide(
        job,
        snapshot.state,
        lease_live=False,
        now=runner.clock.time(),
        zone=runner.zone(job),
        owner=runner._owner(),
        history_limit=runner.history_limit,
    )
    assert decision.action is Action.CLAIM
    return job, job.handoff, decision, snapshot.version


# -- one transaction: lazycron's database backend and the database task backend ---------------
# In this process, on the test site's SQLite database; tests/django/test_tasks_postgresql.py
# proves the same with real processes on PostgreSQL, killed at the worst moment.

needs_database_tasks = pytest.mark.skipif(
    "database" not in settings.TASKS, reason="django-tasks-db needs Django 5.2 or later"
)


def task_rows() -> list[str]:
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path=f"{__name__}.stored")
    return [str(row.id) for row in rows.order_by("enqueued_at")]


@pytest.fixture
def database_site(registry, clock) -> Any:
    from lazycron.django import runtime
    from lazycron.django.database import DatabaseBackend

    backend = DatabaseBackend("default")
    registry.clear()
    scheduler = runtime.build_scheduler(
        registry=registry, backend=backend, clock=clock, check_interval=0
    )
    runtime.install(scheduler)
    yield scheduler
    assert scheduler.wait_idle(10)
    backend.close()
    runtime.reset()


@needs_database_tasks
def test_the_claim_and_the_task_commit_together_on_one_database(
    database_site, registry, clock
) -> None:
    from lazycron.django.database import DatabaseBackend

    name = f"shared-{clock.time()}"
    lazycron.job(every=60, name=name, registry=registry)(stored)
    assert isinstance(database_site.backend, DatabaseBackend)
    assert database_site.backend.transaction_with(cast(Any, stored).get_backend()) is not None
    before = task_rows()
    client = Client()
    client.get("/sync/")
    assert database_site.wait_idle(10)
    clock.advance(60)
    client.get("/sync/")
    assert database_site.wait_idle(10)

    [new] = [row for row in task_rows() if row not in before]
    run = last_run(database_site, name)
    assert (run.outcome, run.task_id, run.task_backend) == ("enqueued", new, "database")


@needs_database_tasks
def test_a_store_failure_before_the_commit_takes_the_task_back_with_the_claim(
    database_site, registry, clock, monkeypatch
) -> None:
    """The run's record cannot be written: the claim and the task roll back together, and
    the tick stays due; the next check enqueues it, once."""
    from lazycron.backends.base import BackendError
    from lazycron.django.database import DatabaseLease

    name, start = f"rolled-back-{clock.time()}", clock.time()
    lazycron.job(every=60, name=name, registry=registry)(stored)
    before = task_rows()
    client = Client()
    client.get("/sync/")
    assert database_site.wait_idle(10)
    clock.advance(60)

    def fail(self: Any, apply: Any) -> bool:
        raise BackendError("the database went away")

    monkeypatch.setattr(DatabaseLease, "finish", fail)
    client.get("/sync/")
    assert database_site.wait_idle(10)
    assert task_rows() == before
    [status] = database_site.status([name])
    assert status.state is not None
    assert status.state.last_tick is None and status.state.current is None

    monkeypatch.undo()
    clock.advance(5)  # a failed store is looked at again after a pause; the tick is still due
    client.get("/sync/")
    assert database_site.wait_idle(10)
    assert len([row for row in task_rows() if row not in before]) == 1
    run = last_run(database_site, name)
    assert (run.outcome, run.tick) == ("enqueued", start + 60)  # the tick rolled back


def test_a_task_backend_on_another_store_shares_no_transaction() -> None:
    from lazycron.django.database import DatabaseBackend

    backend = DatabaseBackend("default")
    assert backend.transaction_with(task_backends["default"]) is None  # ImmediateBackend
    assert backend.transaction_with(object()) is None


@needs_database_tasks
def test_a_failed_enqueue_in_the_shared_transaction_is_recorded_as_failed(
    database_site, registry, clock, monkeypatch
) -> None:
    backend_class = type(cast(Any, stored).get_backend())

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the task was refused")

    name = f"refused-{clock.time()}"
    lazycron.job(every=60, name=name, registry=registry)(stored)
    before = task_rows()
    monkeypatch.setattr(backend_class, "enqueue", refuse)
    client = Client()
    client.get("/sync/")
    assert database_site.wait_idle(10)
    clock.advance(60)
    client.get("/sync/")
    assert database_site.wait_idle(10)

    run = last_run(database_site, name)
    assert (run.outcome, run.error, run.task_id) == (
        "failed",
        "RuntimeError: the task was refused",
        None,
    )
    assert task_rows() == before
