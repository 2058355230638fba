"""The real stores the backend tests use, each private to one test session.

PostgreSQL (127.0.0.1:5432, trust), MariaDB (127.0.0.1:3306, root, no password) and Redis
(127.0.0.1:6379). Each session creates its own database (``lazycron_t_<hex>``) or key
prefix and drops it at the end; nothing it did not create is touched. In CI (``CI=true``)
a missing service or driver fails the test; elsewhere it is skipped with what to install.

Django is configured here only if nothing else did it first (``tests/django`` does, with
its own settings); the stores' databases are added as extra aliases either way.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = uuid.uuid4().hex[:10]
REDIS_URL = os.environ.get("LAZYCRON_TEST_REDIS", "redis://127.0.0.1:6379/0")
PG = {"HOST": "127.0.0.1", "PORT": "5432", "USER": os.environ.get("PGUSER", "postgres")}
MARIADB = {"HOST": "127.0.0.1", "PORT": "3306", "USER": "root", "PASSWORD": ""}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require(present: bool, message: str) -> None:
    """Fail (in CI) or skip (elsewhere) unless ``present``."""
    if present:
        return
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- Django ---------------------------------------------------------------------------------


def django_ready() -> None:
    """Django set up, with ``lazycron`` installed: reuse a set-up made by tests/django."""
    import django
    from django.apps import apps
    from django.conf import settings

    if apps.ready:
        return
    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        settings.configure(
            INSTALLED_APPS=["lazycron"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            USE_TZ=True,
            TIME_ZONE="UTC",
        )
    django.setup()


def add_alias(alias: str, conf: dict[str, Any]) -> None:
    from django.conf import settings
    from django.db import connections

    full = connections.configure_settings(
        {"default": dict(connections.settings["default"]), alias: dict(conf)}
    )[alias]
    connections.settings[alias] = full
    settings.DATABASES[alias] = full


def remove_alias(alias: str) -> None:
    from django.conf import settings
    from django.db import connections

    if alias in connections.settings:
        connections[alias].close()
        del connections.settings[alias]
        settings.DATABASES.pop(alias, None)


def migrate(alias: str) -> None:
    from django.core.management import call_command

    call_command("migrate", "lazycron", database=alias, verbosity=0)


# -- the servers ----------------------------------------------------------------------------


@dataclass
class Database:
    """One private database on a server, as Django settings (``conf``)."""

    vendor: str
    conf: dict[str, Any]
    admin: dict[str, Any] = field(default_factory=dict)

    def admin_connect(self) -> Any:
        if self.vendor == "postgresql":
            import psycopg

            return psycopg.connect(
                host=PG["HOST"], port=int(PG["PORT"]), user=PG["USER"], dbname="test",
                autocommit=True, connect_timeout=5,
            )  # fmt: skip
        import MySQLdb

        connection = MySQLdb.connect(
            host=MARIADB["HOST"], port=int(MARIADB["PORT"]), user=MARIADB["USER"],
            connect_timeout=5,
        )  # fmt: skip
        connection.autocommit(True)
        return connection

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        connection = self.admin_connect()
        try:
            cursor = connection.cursor()
            cursor.execute(statement, params or None)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            connection.close()


def create_postgresql() -> Database:
    try:
        import psycopg
    except ImportError:
        require(False, "psycopg is missing: pip install 'psycopg[binary]'")
        raise
    name = f"lazycron_t_{RUN}"
    db = Database("postgresql", {"ENGINE": "django.db.backends.postgresql", "NAME": name, **PG})
    try:
        db.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        require(False, f"PostgreSQL at 127.0.0.1:5432 is not usable ({exc})")
    return db


def drop_postgresql(db: Database) -> None:
    db.execute(f'DROP DATABASE IF EXISTS "{db.conf["NAME"]}" WITH (FORCE)')


def create_mariadb() -> Database:
    try:
        import MySQLdb
    except ImportError:
        require(
            False,
            "mysqlclient is missing: apt-get install libmariadb-dev pkg-config, then "
            "pip install mysqlclient (.ci/install-servers.sh does both)",
        )
        raise
    name = f"lazycron_t_{RUN}"
    db = Database("mysql", {"ENGINE": "django.db.backends.mysql", "NAME": name, **MARIADB})
    try:
        db.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    except MySQLdb.Error as exc:
        require(False, f"MariaDB at 127.0.0.1:3306 is not usable ({exc})")
    return db


def drop_mariadb(db: Database) -> None:
    db.execute(f"DROP DATABASE IF EXISTS `{db.conf['NAME']}`")


def redis_available() -> None:
    try:
        import redis
    except ImportError:
        require(False, "redis-py is missing: pip install 'lazycron[redis]'")
        raise
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        require(False, f"Redis at {REDIS_URL} is not reachable ({exc})")


def delete_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    keys = list(client.scan_iter(match=f"{{{prefix}:*", count=500))
    if keys:
        client.delete(*keys)


# -- child processes ------------------------------------------------------------------------


def run_child(module: str, spec: dict[str, Any], *args: str) -> Any:
    """Start ``python -m module spec args`` from the repository; returns the process."""
    return subprocess.Popen(
        [sys.executable, "-m", module, json.dumps(spec), *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
