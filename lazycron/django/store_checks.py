"""System checks for where job records live (``LAZYCRON["BACKEND"]``), each with a stable id:

* ``lazycron.E101``: the backend settings cannot work (an unknown URL scheme, a database
  alias that does not exist, redis-py missing, ``DATABASE`` without ``BACKEND``);
* ``lazycron.W102``: the store cannot be reached (jobs do not run until it can; requests
  are unaffected);
* ``lazycron.W103``: the ``lazycron`` migrations are not applied to the backend's database;
* ``lazycron.W104``: Redis may evict lazycron's keys (``maxmemory-policy``), or the Redis
  client passed in has no socket timeout.

E101 reads settings only and runs with every check. The others talk to the store, so,
like Django's own database checks, they run only when asked for a database
(``manage.py check --database default``, and before ``migrate``). They are warnings: a
store that is down must never stop a deploy, since lazycron fails closed without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from ..backends.base import Backend
from ..errors import ConfigurationError
from .conf import read_settings
from .store import configured_backend

__all__ = ["check_backend_settings", "check_backend_store", "register_store_checks"]

OBJ = "settings.LAZYCRON"


def register_store_checks() -> None:
    register(check_backend_settings, "lazycron", Tags.compatibility)
    register(check_backend_store, "lazycron", Tags.database)


def _backend() -> tuple[Backend | None, CheckMessage | None]:
    conf, problems = read_settings()
    if problems:  # reported by lazycron.E003 already
        return None, None
    try:
        return configured_backend(conf), None
    except (ConfigurationError, ImportError) as exc:
        return None, Error(
            str(exc),
            hint="Fix LAZYCRON['BACKEND'] (see docs/backends.md); no job runs until then.",
            obj=OBJ,
            id="lazycron.E101",
        )


def check_backend_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E101: a backend that cannot even be built from the settings."""
    _, error = _backend()
    return [error] if error else []


def check_backend_store(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """W102, W103 and W104: talk to the store (only when a database check is asked for)."""
    if not databases:
        return []
    backend, error = _backend()
    if backend is None or error is not None:
        return []
    from .database import DatabaseBackend

    if isinstance(backend, DatabaseBackend):
        if backend.alias not in databases:
            return []
        return _database_messages(backend)
    return _store_messages(backend)


def _unreachable(backend: Backend, exc: Exception) -> CheckMessage:
    return Warning(
        f"lazycron cannot reach its store at {backend.location}: {exc}",
        hint="No job runs until it is reachable; requests are unaffected.",
        obj=OBJ,
        id="lazycron.W102",
    )


def _database_messages(backend: Any) -> list[CheckMessage]:
    from django.db import DatabaseError, connections
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[backend.alias])
        leaves = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "lazycron"]
        missing = executor.migration_plan(leaves)
    except DatabaseError as exc:
        return [_unreachable(backend, exc)]
    if not missing:
        return []
    names = ", ".join(migration.name for migration, _ in missing)
    option = "" if backend.alias == "default" else f" --database {backend.alias}"
    return [
        Warning(
            f"the lazycron migrations ({names}) are not applied to database "
            f"{backend.alias!r}, where LAZYCRON['BACKEND'] = 'database' keeps job records",
            hint=f"Run `manage.py migrate lazycron{option}`; no job runs until then.",
            obj=OBJ,
            id="lazycron.W103",
        )
    ]


def _store_messages(backend: Any) -> list[CheckMessage]:
    try:
        backend.prepare()
        problems: list[str] = list(getattr(backend, "problems", list)())
    except (OSError, ConfigurationError) as exc:
        return [_unreachable(backend, exc)]
    return [
        Warning(problem, obj=OBJ, id="lazycron.W104", hint="See docs/backends.md.")
        for problem in problems
    ]
