"""Jobs, the registry that holds them, and the ``@job`` decorator.

A job is declared in code and never stored: only its *state* (ticks and runs) lives in
a backend. Everything about a declaration is validated when the decorator runs.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .errors import DuplicateJobError, JobDefinitionError
from .schedules import CronSchedule, Schedule, parse_interval, resolve_timezone

if TYPE_CHECKING:
    from .handoff import TaskHandoff, TaskLike

__all__ = ["Job", "Registry", "default_registry", "job"]

# A function, or a task of Django's tasks framework (see lazycron.handoff).
F = TypeVar("F", bound="Callable[..., Any] | TaskLike")


@dataclass(frozen=True)
class Job:
    """One named function with a schedule, and the options that shape its runs.

    :param name: unique name; also keys the job's state, so renaming a job starts it afresh.
    :param func: a callable taking no arguments; ``async def`` functions are run with
        ``asyncio.run`` on the job's own thread.
    :param schedule: a :class:`CronSchedule` or :class:`IntervalSchedule`.
    :param timezone: zone in which a cron expression is read; ``None`` means the
        scheduler's default (UTC, or ``settings.TIME_ZONE`` under Django).
    :param max_lateness: seconds; a tick found later than this is skipped (and logged)
        instead of run late. ``None`` runs a late tick however late it is.
    :param rerun_interrupted: when a run's process died mid-run, run that tick again at the
        next check instead of waiting for the next tick.
    :param max_runtime: seconds; a run still going after this is *overrunning*: shown in
        ``status``, logged once, and a WARNING for ``status --check``. Nothing is killed.
        ``None``: the schedule's period (see :mod:`lazycron.health`).
    :param grace: seconds a tick may go unrun before ``status --check`` calls the job
        late (WARNING), and two such ticks missed (CRITICAL). ``None``: half the period,
        at least a minute and at most an hour.
    :param on_success: ``f(job, run)``, called after each successful run.
    :param on_failure: ``f(job, run)``, called after each failed run.
    :param ping: a dead-man's-switch URL (healthchecks.io style): ``<url>/start``,
        ``<url>`` and ``<url>/fail`` are fetched as a run starts, succeeds, fails.
    :param expected_duration: the earlier name of ``max_runtime``, kept so that existing
        declarations keep working; it means exactly the same thing.
    :param handoff: set when the job was declared on a task (Django's tasks framework):
        each claimed tick enqueues the task instead of calling ``func``, which is then
        the task's function (see :mod:`lazycron.handoff`).
    """

    name: str
    func: Callable[[], Any]
    schedule: Schedule
    timezone: ZoneInfo | None = None
    max_lateness: float | None = None
    rerun_interrupted: bool = False
    expected_duration: float | None = None
    handoff: TaskHandoff | None = None
    max_runtime: float | None = None
    grace: float | None = None
    on_success: Callable[[Job, Any], object] | None = None
    on_failure: Callable[[Job, Any], object] | None = None
    ping: str | None = None

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    @property
    def origin(self) -> str:
        return f"{getattr(self.func, '__module__', '?')}.{getattr(self.func, '__qualname__', '?')}"


class Registry:
    """An ordered collection of jobs, keyed by name.

    ``@lazycron.job`` fills :data:`default_registry`; applications that want their own
    set of jobs create a ``Registry`` and pass ``registry=`` to the decorator and to the
    middleware.
    """

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        # Which execution of its module declared each job (see _execution_of).
        self._executions: dict[str, object] = {}
        self._lock = threading.Lock()
        # Bumped on every change so schedulers notice jobs declared after they started.
        self.version = 0

    def add(self, new: Job) -> None:
        execution = _execution_of(new.func)
        with self._lock:
            existing = self._jobs.get(new.name)
            if existing is not None and existing.func is not new.func:
                self._refuse_duplicate(existing, new, self._executions.get(new.name), execution)
            self._jobs[new.name] = new
            self._executions[new.name] = execution
            self.version += 1

    @staticmethod
    def _refuse_duplicate(existing: Job, new: Job, before: object, now: object) -> None:
        """Two functions under one name are an error, unless the second is the same
        declaration made again by a re-import of its module (Django's autoreloader,
        ``importlib.reload``, a ``cron.py`` imported again after a failed import)."""
        if existing.origin != new.origin:
            raise DuplicateJobError(
                f"duplicate job name {new.name!r}: already declared by {existing.origin}, "
                f"declared again by {new.origin}; pass name='...' to tell them apart"
            )
        if now is None or now is not before:
            return  # a new execution of the module: a re-import replaces its jobs
        # Same function name, same run of its module: a loop, a factory or lambdas.
        raise DuplicateJobError(
            f"duplicate job name {new.name!r}: {new.origin} declared it twice (in a loop, "
            f"a factory or as lambdas, every declaration gets the same default name); "
            f"pass a distinct name='...' to each"
        )

    def remove(self, name: str) -> None:
        with self._lock:
            self._jobs.pop(name, None)
            self._executions.pop(name, None)
            self.version += 1

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._executions.clear()
            self.version += 1

    def get(self, name: str) -> Job:
        try:
            return self._jobs[name]
        except KeyError:
            known = ", ".join(sorted(self._jobs)) or "none"
            raise KeyError(f"no job named {name!r} (known jobs: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._jobs

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)


def _execution_of(func: Callable[..., Any]) -> object:
    """A token for the run of the module that defined ``func``, or ``None``.

    Every import of a module, ``importlib.reload`` included, gives it a new
    ``__spec__`` object, while a loop or a factory in one run of the module sees the
    same one. Code run without a spec (a ``__main__`` script, ``exec``) is told apart by
    its globals dict. Callables with no globals (partials, callable objects): ``None``.
    """
    namespace = getattr(func, "__globals__", None)
    if not isinstance(namespace, dict):
        return None
    spec = namespace.get("__spec__")
    return spec if spec is not None else namespace


default_registry = Registry()


def _seconds(option: str, value: object) -> float | None:
    return None if value is None else parse_interval(value, option).seconds


def job(
    cron: str | None = None,
    /,
    *,
    every: float | timedelta | str | None = None,
    seconds: bool = False,
    name: str | None = None,
    timezone: str | ZoneInfo | None = None,
    max_lateness: float | timedelta | str | None = None,
    rerun_interrupted: bool = False,
    expected_duration: float | timedelta | str | None = None,
    pass_tick: bool = False,
    max_runtime: float | timedelta | str | None = None,
    grace: float | timedelta | str | None = None,
    on_success: Callable[[Job, Any], object] | None = None,
    on_failure: Callable[[Job, Any], object] | None = None,
    ping: str | None = None,
    registry: Registry | None = None,
) -> Callable[[F], F]:
    """Declare a scheduled job. Returns the function unchanged.

    >>> @job("*/5 * * * *")            # every five minutes, on the cron grid
    ... def purge(): ...
    >>> @job(every="30s")              # every 30 seconds after the job was first seen
    ... def ping(): ...
    >>> @job("* * * * * */10", seconds=True)  # a sixth field, seconds, comes last
    ... def poll(): ...

    Exactly one of ``cron`` and ``every`` is required. ``seconds=True`` allows a 6-field
    expression whose sixth field is seconds (Quartz and Spring put seconds first; copied
    as is, such an expression would run every second). ``H`` in a field is a value hashed
    from the job's name. See :class:`Job` for the other options.

    Stacked on a task of Django's tasks framework (``@task`` below ``@lazycron.job``),
    each claimed tick *enqueues* the task instead of running it here; ``pass_tick=True``
    passes the tick to it as ``tick=`` (ISO 8601, UTC). See docs/tasks.md.
    """
    if callable(cron):
        raise JobDefinitionError(
            "@lazycron.job needs a schedule: write @lazycron.job('*/5 * * * *') or "
            "@lazycron.job(every='5m'), not a bare @lazycron.job"
        )

    def decorator(func: F) -> F:
        from .handoff import TaskHandoff, is_task

        declared: Any = func
        target = declared.func if is_task(declared) else declared
        label = (
            name or f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"
        )

        def fail(problem: str) -> JobDefinitionError:
            return JobDefinitionError(f"job {label!r}: {problem}")

        if not isinstance(pass_tick, bool):
            raise fail("pass_tick= must be True or False")
        handoff = None
        if target is not declared:
            handoff = TaskHandoff(declared, pass_tick=pass_tick, fail=fail)
        elif pass_tick:
            raise fail(
                "pass_tick=True applies to a task (Django's @task under @lazycron.job); a "
                "plain function reads its tick from lazycron.current_run().tick"
            )
        if not callable(target):
            raise fail(f"@lazycron.job decorates functions, not {type(func).__name__}")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise fail("name= must be a non-empty string")
        if (cron is None) == (every is None):
            raise fail("give exactly one schedule: a cron expression or every=")
        if not isinstance(seconds, bool):
            raise fail("seconds= must be True or False")
        try:
            if seconds and every is not None:
                raise JobDefinitionError("seconds=True only applies to cron expressions")
            schedule: Schedule = (
                CronSchedule.parse(cron, job_name=label, seconds=seconds)
                if cron is not None
                else parse_interval(every)
            )
            zone = resolve_timezone(timezone) if timezone is not None else None
            if zone is not None and every is not None:
                raise JobDefinitionError("timezone= only applies to cron expressions")
            lateness = _seconds("max_lateness", max_lateness)
            expected = _seconds("expected_duration", expected_duration)
            runtime = _seconds("max_runtime", max_runtime)
            grace_seconds = _seconds("grace", grace)
        except JobDefinitionError as exc:
            raise fail(str(exc)) from None
        if expected is not None and runtime is not None and expected != runtime:
            raise fail(
                "expected_duration= is the earlier name of max_runtime= and they disagree; "
                "keep max_runtime= only"
            )
        runtime = runtime if runtime is not None else expected
        for option, hook in (("on_success", on_success), ("on_failure", on_failure)):
            if hook is not None and not callable(hook):
                raise fail(f"{option}= must be a function f(job, run), not {type(hook).__name__}")
        if ping is not None and (
            not isinstance(ping, str)
            or urlsplit(ping).scheme not in {"http", "https"}
            or not urlsplit(ping).netloc
        ):
            raise fail(f"ping={ping!r} must be an http:// or https:// URL")
        if not isinstance(rerun_interrupted, bool):
            raise fail("rerun_interrupted= must be True or False")
        if handoff is None:
            _check_takes_no_arguments(target, fail)

        (registry if registry is not None else default_registry).add(
            Job(
                name=label,
                func=target,
                schedule=schedule,
                timezone=zone,
                max_lateness=lateness,
                rerun_interrupted=rerun_interrupted,
                expected_duration=runtime,
                max_runtime=runtime,
                grace=grace_seconds,
                on_success=on_success,
                on_failure=on_failure,
                ping=ping,
                handoff=handoff,
            )
        )
        return func

    return decorator


def _check_takes_no_arguments(
    func: Callable[..., Any], fail: Callable[[str], JobDefinitionError]
) -> None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # builtins without a signature: trust the caller
        return
    try:
        signature.bind()
    except TypeError:
        raise fail(f"a job is called with no arguments, but {signature} requires some") from None
