"""System checks, each with a stable id (documented in docs/django.md).

* ``lazycron.E001``: a job's schedule or time zone is invalid;
* ``lazycron.E002``: the state directory is unusable and cannot be created;
* ``lazycron.E003``: an unknown or invalid key in ``settings.LAZYCRON``;
* ``lazycron.E004``: two functions declared under one job name;
* ``lazycron.W001``: jobs are declared but the middleware is not in ``MIDDLEWARE``;
* ``lazycron.W010``: ``CHECK_INTERVAL`` is longer than a job's ``every=``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from ..backends import FileBackend, UnsafeStateDirError
from ..errors import JobDefinitionError
from ..jobs import default_registry
from ..schedules import resolve_timezone
from . import discovery
from .conf import read_settings, state_dir_of
from .store_checks import register_store_checks

__all__ = ["MIDDLEWARE_PATH", "register_checks"]

MIDDLEWARE_PATH = "lazycron.middleware.LazyCronMiddleware"
MOVED_PATH = "lazycron.django.middleware.LazyCronMiddleware"  # where the code lives
TAG = "lazycron"


def register_checks() -> None:
    for check in (
        check_jobs,
        check_state_dir,
        check_settings,
        check_middleware,
        check_check_interval,
    ):
        register(check, TAG, Tags.compatibility)
    register_store_checks()  # E101, W102-W104: the backend (store_checks.py)


def check_jobs(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """E001 and E004: declarations refused at import, and schedules that cannot be
    computed in the zone they will be read in (``settings.TIME_ZONE`` by default)."""
    errors: list[CheckMessage] = []
    for failure in discovery.failures():
        duplicate = failure.duplicate
        errors.append(
            Error(
                str(failure.error),
                hint=(
                    "Give one of them name='...'."
                    if duplicate
                    else "Fix the declaration; no job runs until then."
                ),
                obj=failure.module,
                id="lazycron.E004" if duplicate else "lazycron.E001",
            )
        )
    conf, _ = read_settings()
    try:
        default_zone = resolve_timezone(conf.time_zone)
    except JobDefinitionError as exc:
        return [
            *errors,
            Error(
                f"settings.TIME_ZONE cannot be used for cron schedules: {exc}",
                obj="settings.TIME_ZONE",
                id="lazycron.E001",
            ),
        ]
    now = time.time()
    for job in default_registry:
        try:
            job.schedule.next_after(now, job.timezone or default_zone, now)
        except Exception as exc:
            errors.append(
                Error(
                    f"job {job.name!r}: schedule {job.schedule.describe()!r} cannot be "
                    f"computed: {exc}",
                    obj=job.origin,
                    id="lazycron.E001",
                )
            )
    return errors


def check_state_dir(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E002: a missing directory is fine if it can be created. Nothing is left behind.
    Not checked when ``BACKEND`` keeps job records elsewhere (no directory is used)."""
    conf, _ = read_settings()
    if conf.backend is not None:
        return []
    directory = Path(state_dir_of(conf)).expanduser().absolute()
    problem = _state_dir_problem(directory)
    if problem is None:
        return []
    return [
        Error(
            problem,
            hint="Set LAZYCRON['STATE_DIR'] to a directory the web server's user owns "
            "and can write, or one it can create.",
            obj="settings.LAZYCRON",
            id="lazycron.E002",
        )
    ]


def _state_dir_problem(directory: Path) -> str | None:
    try:
        return _inspect_state_dir(directory)
    except OSError as exc:  # e.g. a parent this user may not even look into
        return f"state directory {directory} cannot be used: {exc}"


def _inspect_state_dir(directory: Path) -> str | None:
    if directory.exists():
        try:
            FileBackend(directory).prepare()  # validates only: the directory exists
        except (OSError, UnsafeStateDirError) as exc:
            return f"state directory {directory} cannot be used: {exc}"
    try:
        _try_writing(directory)
    except OSError as exc:
        verb = "cannot be written" if directory.exists() else "does not exist and cannot be created"
        return f"state directory {directory} {verb}: {exc}"
    return None


def _try_writing(directory: Path) -> None:
    """Create the directory (and its missing parents) and a file in it, as the server
    will, then remove what was created. Trying is the only reliable test: under root,
    ``os.access`` says yes to ``/proc``, read-only bind mounts and full quotas."""
    missing = [p for p in (directory, *directory.parents) if not p.exists()]
    created: list[Path] = []
    try:
        for path in reversed(missing):
            path.mkdir(mode=0o700)
            created.append(path)
        fd, probe = tempfile.mkstemp(prefix=".lazycron-check-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    finally:
        for path in reversed(created):
            with contextlib.suppress(OSError):  # someone else put a file there meanwhile
                path.rmdir()


def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E003: every problem in settings.LAZYCRON, each with its own message."""
    _, problems = read_settings()
    return [Error(problem, obj="settings.LAZYCRON", id="lazycron.E003") for problem in problems]


def check_middleware(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W001: jobs that nothing will ever run."""
    installed = set(settings.MIDDLEWARE or ())
    if not len(default_registry) or installed & {MIDDLEWARE_PATH, MOVED_PATH}:
        return []
    return [
        Warning(
            f"{len(default_registry)} lazycron job(s) are declared, but {MIDDLEWARE_PATH} "
            f"is not in settings.MIDDLEWARE, so no request will run them.",
            hint=f"Add {MIDDLEWARE_PATH!r} to MIDDLEWARE, or run `manage.py lazycron tick` "
            "from a system crontab and add 'lazycron.W001' to SILENCED_SYSTEM_CHECKS.",
            obj="settings.MIDDLEWARE",
            id="lazycron.W001",
        )
    ]


def check_check_interval(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W010: a job declared more often than each process looks would run less often."""
    conf, _ = read_settings()
    warnings: list[CheckMessage] = []
    for job in default_registry:
        every = getattr(job.schedule, "seconds", None)
        if every is not None and every < conf.check_interval:
            warnings.append(
                Warning(
                    f"job {job.name!r} is declared every {every:g}s but CHECK_INTERVAL is "
                    f"{conf.check_interval:g}s, so it runs at most every "
                    f"{conf.check_interval:g}s",
                    hint="Lower LAZYCRON['CHECK_INTERVAL'] (or leave it out: the default is 1s).",
                    obj=job.name,
                    id="lazycron.W010",
                )
            )
    return warnings
