"""Handing a due tick to a task queue instead of running it on lazycron's thread.

``@lazycron.job(...)`` stacked on a task object (Django's ``django.tasks.task``, or
``django_tasks.task`` from the backport) makes lazycron the *beat* of that queue: at each
claimed tick it calls the task's ``enqueue()`` and records the run as ``enqueued``, with
the task result's id. The task's worker does the work.

This module is framework-neutral: a task is recognised by what it has (``enqueue``,
``get_backend``, ``get_result`` and the function ``func``), never by importing Django.
Whether a claim and an enqueue can commit in one transaction is the lazycron backend's
to say (:class:`SharesTransactions`); the Django database backend says yes when the task
backend writes to the same database (see ``lazycron.django.database``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from .errors import JobDefinitionError
from .state import HOST_BYTES, limit_text

__all__ = ["Enqueued", "SharesTransactions", "TaskHandoff", "TaskLike", "is_task"]

_TASK_METHODS = ("enqueue", "get_backend", "get_result")


class TaskLike(Protocol):
    """What ``@lazycron.job`` accepts besides a function: a task of Django's tasks
    framework (read-only members, as on its frozen dataclass)."""

    @property
    def func(self) -> Callable[..., Any]: ...
    @property
    def enqueue(self) -> Callable[..., Any]: ...
    @property
    def get_backend(self) -> Callable[[], Any]: ...
    @property
    def get_result(self) -> Callable[..., Any]: ...


def is_task(obj: object) -> bool:
    """Whether ``obj`` looks like a task of Django's tasks framework (or its backport)."""
    return all(callable(getattr(obj, name, None)) for name in _TASK_METHODS) and callable(
        getattr(obj, "func", None)
    )


@dataclass(frozen=True)
class Enqueued:
    """What an ``enqueue()`` returned: the result's id, the task backend's name and the
    result's status then (``READY`` for a queue; an inline backend has finished it)."""

    result_id: str
    backend: str
    status: str | None


@runtime_checkable
class SharesTransactions(Protocol):
    """A lazycron backend that can commit a claim in the same transaction as a task
    backend's ``enqueue()``."""

    def transaction_with(self, task_backend: object) -> AbstractContextManager[None] | None:
        """A context manager inside which this backend's claim, its ``finish`` and the
        task backend's writes are one transaction, committed when it exits (and rolled
        back when it raises); ``None`` when the two stores cannot share one."""
        ...


class TaskHandoff:
    """How a job enqueues its task. Built, and checked, when the job is declared."""

    def __init__(
        self, task: Any, *, pass_tick: bool, fail: Callable[[str], JobDefinitionError]
    ) -> None:
        self.task = task
        self.pass_tick = pass_tick
        self._check_arguments(fail)
        self._check_backend(fail)

    @property
    def func(self) -> Callable[..., Any]:
        func: Callable[..., Any] = self.task.func
        return func

    @property
    def backend_name(self) -> str:
        return str(getattr(self.task, "backend", "?"))

    def task_backend(self) -> object:
        return self.task.get_backend()

    def _check_arguments(self, fail: Callable[[str], JobDefinitionError]) -> None:
        try:
            signature = inspect.signature(self.func)
        except (TypeError, ValueError):  # no signature to read: trust the caller
            return
        parameters = list(signature.parameters.values())
        if getattr(self.task, "takes_context", False) and parameters:
            parameters = parameters[1:]  # the task's context, which the worker passes
        enqueued_with = "tick=<the tick>" if self.pass_tick else "no arguments"
        try:
            signature.replace(parameters=parameters).bind(
                **({"tick": "2000-01-01T00:00:00+00:00"} if self.pass_tick else {})
            )
        except TypeError:
            fix = (
                "give the task a `tick` keyword parameter"
                if self.pass_tick
                else "give its parameters defaults, or pass_tick=True if it takes the tick"
            )
            raise fail(
                f"lazycron enqueues the task with {enqueued_with}, but "
                f"{self.func.__qualname__}{signature} cannot be called so: {fix}"
            ) from None

    def _check_backend(self, fail: Callable[[str], JobDefinitionError]) -> None:
        # The task framework checks these when the task is made; a task made before its
        # settings changed, or by hand, is checked again here, where the job is declared.
        try:
            backend = self.task.get_backend()
            validate = getattr(backend, "validate_task", None)
            if validate is not None:
                validate(self.task)
        except Exception as exc:
            raise fail(
                f"its task cannot be enqueued on task backend {self.backend_name!r} "
                f"(queue {getattr(self.task, 'queue_name', '?')!r}): "
                f"{type(exc).__name__}: {exc}; check settings.TASKS"
            ) from None

    def enqueue(self, tick: float) -> Enqueued:
        """Enqueue the task for ``tick``. Raises whatever ``enqueue()`` raises."""
        kwargs = {"tick": tick_argument(tick)} if self.pass_tick else {}
        result = self.task.enqueue(**kwargs)
        return Enqueued(
            result_id=limit_text(str(result.id), HOST_BYTES),
            backend=limit_text(str(getattr(result, "backend", self.backend_name)), HOST_BYTES),
            status=_status_text(getattr(result, "status", None)),
        )

    def final_status(self, result_id: str) -> str | None:
        """The task's status now, from its backend; ``None`` when the backend cannot say
        (it keeps no results, or has forgotten this one)."""
        try:
            backend = self.task.get_backend()
            if not getattr(backend, "supports_get_result", False):
                return None
            return _status_text(backend.get_result(result_id).status)
        except Exception:  # a result pruned, a backend down: status shows what it recorded
            return None


def tick_argument(tick: float) -> str:
    """The tick as a task receives it with ``pass_tick=True``: ISO 8601 in UTC, which
    ``datetime.fromisoformat`` turns back into an aware datetime. A string, because a
    task's arguments must survive JSON (Django's database task backend stores them so)."""
    return datetime.fromtimestamp(tick, UTC).isoformat()


def _status_text(status: object) -> str | None:
    if status is None:
        return None
    return limit_text(str(getattr(status, "value", status)), HOST_BYTES)
