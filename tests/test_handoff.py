"""The framework-neutral half of enqueueing: a task is known by what it has, and the run's
record keeps the task's id. Shown with a task object of this module's own, no Django; the
Django tasks framework itself is in tests/django/test_tasks.py."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import lazycron
from lazycron import JobDefinitionError, Registry, Scheduler
from lazycron.handoff import is_task, tick_argument
from lazycron.state import JobState, Run, decode, encode
from lazycron.testing import FakeClock


@dataclass
class Result:
    id: str
    backend: str = "queue"
    status: str = "READY"


@dataclass
class Queue:
    """A task backend that keeps what it is given."""

    enqueued: list[dict[str, Any]] = field(default_factory=list)
    queues: tuple[str, ...] = ("default",)

    def validate_task(self, task: Task) -> None:
        if task.queue_name not in self.queues:
            raise ValueError(f"queue {task.queue_name!r} is not valid")


@dataclass
class Task:
    """What lazycron needs of a task: func, enqueue, get_backend and get_result."""

    func: Any
    queue: Queue
    queue_name: str = "default"
    backend: str = "queue"

    def enqueue(self, **kwargs: Any) -> Result:
        self.queue.enqueued.append(kwargs)
        return Result(id=f"task-{len(self.queue.enqueued)}")

    def get_backend(self) -> Queue:
        return self.queue

    def get_result(self, result_id: str) -> Result:
        raise LookupError(result_id)


def work(tick: str | None = None) -> None:
    pass


def test_a_task_is_known_by_what_it_has_and_django_is_never_imported() -> None:
    assert is_task(Task(work, Queue()))
    assert not is_task(work)
    assert not is_task(Result("x"))
    # The core alone, in a fresh interpreter: declaring on a task imports no Django.
    code = (
        "import sys, lazycron\n"
        "from lazycron.handoff import is_task\n"
        "import lazycron.runner, lazycron.jobs\n"
        "assert not any(name.split('.')[0] == 'django' for name in sys.modules), 'django'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_each_claimed_tick_enqueues_once_with_its_tick(tmp_path: Path) -> None:
    clock, registry, queue = FakeClock(), Registry(), Queue()
    lazycron.job(every=60, name="beat", pass_tick=True, registry=registry)(Task(work, queue))
    scheduler = Scheduler(registry=registry, state_dir=tmp_path, clock=clock, check_interval=0)
    assert scheduler.tick() == []  # first sight
    clock.advance(60)
    [(name, run)] = scheduler.tick()
    assert scheduler.tick() == []  # the same tick: nothing more

    assert (name, run.outcome, run.task_id, run.task_backend) == (
        "beat",
        "enqueued",
        "task-1",
        "queue",
    )
    [kwargs] = queue.enqueued
    assert datetime.fromisoformat(kwargs["tick"]).timestamp() == run.tick
    assert kwargs["tick"] == tick_argument(run.tick)


def test_a_queue_the_backend_does_not_know_is_refused_at_declaration() -> None:
    with pytest.raises(JobDefinitionError, match=r"queue 'nightly'.*settings.TASKS"):
        lazycron.job(every=60, registry=Registry())(Task(work, Queue(), queue_name="nightly"))


def test_a_run_keeps_its_task_and_a_state_from_before_still_loads() -> None:
    run = Run(run_id="r", tick=60.0, started=61.0, pid=1, host="h", outcome="enqueued")
    run.task_id, run.task_backend, run.task_status = "task-1", "queue", "READY"
    state = JobState(first_seen=0.0, last_tick=60.0, history=[run])
    assert decode(encode(state)) == state

    older = json.loads(encode(state))
    for key in ("task_id", "task_backend", "task_status"):
        del older["history"][0][key]
    older["history"][0]["outcome"] = "ok"
    [loaded] = decode(json.dumps(older).encode()).history
    assert (loaded.outcome, loaded.task_id, loaded.task_status) == ("ok", None, None)
