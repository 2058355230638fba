"""One fixture per real store, and ``store``: each of them in turn (the contract suite).

Every store is private to the session (its own database or key prefix, dropped at the
end) and every test uses job names of its own, so tests never see each other's records.

The file backend is one of them (``file_store``): "hosts" there are backends on one
directory, as the worker processes of one machine are.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lazycron.backends.base import Backend

from . import services
from .helpers import STORES, Store
from .stores import close_opened, open_spec


@pytest.fixture(autouse=True)
def _close_backends() -> Iterator[None]:
    yield
    close_opened()


@pytest.fixture
def job() -> str:
    """A job name no other test uses."""
    return f"job-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    value: Store = request.getfixturevalue(f"{request.param}_store")
    return value


# -- files ----------------------------------------------------------------------------------


@pytest.fixture
def file_store(tmp_path: Path) -> Store:
    spec = {"kind": "file", "directory": str(tmp_path / "state")}

    def corrupt(job: str, data: bytes) -> None:
        backend: Any = open_spec(spec)
        backend.prepare()
        backend.path_for(job).write_bytes(data)

    def lose(job: str) -> None:
        backend: Any = open_spec(spec)
        backend.path_for(job).unlink(missing_ok=True)

    def unreachable() -> Backend:
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("a file where the state directory should be")
        return open_spec(spec, directory=str(blocker / "state"))

    return Store("file", spec, corrupt, lose, unreachable, lease_can_expire=False)


# -- Redis ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_store() -> Iterator[Store]:
    services.redis_available()
    prefix = f"lazycron-test-{services.RUN}"
    spec = {"kind": "redis", "url": services.REDIS_URL, "prefix": prefix}

    def corrupt(job: str, data: bytes) -> None:
        backend: Any = open_spec(spec)
        backend.client.hset(backend.keys(job)[0], "state", data)

    def lose(job: str) -> None:
        backend: Any = open_spec(spec)
        backend.client.delete(*backend.keys(job))

    def unreachable() -> Backend:
        return open_spec(spec, url=f"redis://127.0.0.1:{services.closed_port()}/0", timeout=1)

    yield Store("redis", spec, corrupt, lose, unreachable)
    services.delete_prefix(services.REDIS_URL, prefix)


# -- Django databases -----------------------------------------------------------------------


def _database_store(name: str, alias: str, conf: dict[str, Any]) -> Store:
    services.django_ready()
    services.add_alias(alias, conf)
    services.migrate(alias)
    spec = {"kind": "database", "alias": alias, "conf": conf}

    def corrupt(job: str, data: bytes) -> None:
        from lazycron.django.database import record_key
        from lazycron.django.models import JobRecord

        JobRecord.objects.using(alias).filter(key=record_key(job)).update(state=data)

    def lose(job: str) -> None:
        from lazycron.django.database import record_key
        from lazycron.django.models import JobRecord

        JobRecord.objects.using(alias).filter(key=record_key(job)).delete()

    def unreachable() -> Backend:
        broken = f"{alias}_down"
        if name == "sqlite":
            down = {**conf, "NAME": str(Path(conf["NAME"]).parent / "missing" / "db.sqlite3")}
        else:
            down = {**conf, "PORT": str(services.closed_port())}
        services.add_alias(broken, down)
        return open_spec(spec, alias=broken, conf=down)

    return Store(name, spec, corrupt, lose, unreachable)


@pytest.fixture(scope="session")
def postgresql_store() -> Iterator[Store]:
    db = services.create_postgresql()
    try:
        yield _database_store("postgresql", "lazycron_pg", db.conf)
    finally:
        services.remove_alias("lazycron_pg")
        services.drop_postgresql(db)


@pytest.fixture(scope="session")
def postgresql_db(postgresql_store: Store) -> services.Database:
    """The private PostgreSQL database, for tests that go behind the backend's back."""
    return services.Database("postgresql", postgresql_store.spec["conf"])


@pytest.fixture(scope="session")
def mariadb_store() -> Iterator[Store]:
    db = services.create_mariadb()
    try:
        yield _database_store("mariadb", "lazycron_mariadb", db.conf)
    finally:
        services.remove_alias("lazycron_mariadb")
        services.drop_mariadb(db)


@pytest.fixture(scope="session")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("lazycron-sqlite") / "db.sqlite3"
    conf = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
    # WAL, as docs/backends.md recommends: readers (a request's open transaction) then
    # never block lazycron's writes. The mode is stored in the file, for every connection.
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    try:
        yield _database_store("sqlite", "lazycron_sqlite", conf)
    finally:
        services.remove_alias("lazycron_sqlite")
