"""``LAZYCRON["BACKEND"]``, ``"DATABASE"`` and ``"LEASE"``, and their system checks (E101,
W102, W103), through Django's own check framework."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import services
from .helpers import Store


@pytest.fixture
def django_site(sqlite_store: Store) -> Store:
    return sqlite_store  # Django is set up, with a migrated SQLite alias


def lazycron_checks(databases: list[str] | None = None) -> list[Any]:
    from django.core.checks import run_checks

    return [
        message
        for message in run_checks(tags=["lazycron"], databases=databases)
        if message.id in {"lazycron.E003", "lazycron.E101", "lazycron.W102", "lazycron.W103"}
    ]


def settings_with(**lazycron: Any) -> Any:
    from django.test import override_settings

    return override_settings(LAZYCRON={"CHECK_INTERVAL": 30, **lazycron})


def backend_from_settings() -> Any:
    from lazycron.django.conf import get_settings
    from lazycron.django.store import configured_backend

    return configured_backend(get_settings())


def test_no_backend_setting_means_the_file_backend(django_site: Store) -> None:
    with settings_with():
        assert backend_from_settings() is None
        assert lazycron_checks() == []


def test_database_backend_from_settings(django_site: Store) -> None:
    from lazycron.django.database import DatabaseBackend

    alias = django_site.spec["alias"]
    with settings_with(BACKEND="database", DATABASE=alias, LEASE=30):
        backend = backend_from_settings()
        assert isinstance(backend, DatabaseBackend)
        assert (backend.alias, backend.lease) == (alias, 30.0)
        assert lazycron_checks(databases=[alias]) == []
    with settings_with(BACKEND="database"):
        assert backend_from_settings().alias == "default"


def test_redis_backend_from_settings(django_site: Store) -> None:
    services.redis_available()
    from lazycron.backends.redis import RedisBackend

    with settings_with(BACKEND="redis://:pw@127.0.0.1:6379/3", LEASE=12):
        backend = backend_from_settings()
        assert isinstance(backend, RedisBackend)
        assert backend.lease == 12.0
        assert backend.location == "redis://:***@127.0.0.1:6379/3"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"BACKEND": "memcached://127.0.0.1:11211"}, "must be 'database', a redis://"),
        ({"BACKEND": "database", "DATABASE": "nowhere"}, "'nowhere' is not in settings"),
        ({"DATABASE": "default"}, "set LAZYCRON['BACKEND'] = 'database'"),
        ({"BACKEND": "http://user:s3cret@host/"}, "must be 'database'"),
    ],
)
def test_bad_backend_settings_are_lazycron_E101(
    django_site: Store, setting: dict[str, str], message: str
) -> None:
    with settings_with(**setting):
        messages = lazycron_checks()
    assert [m.id for m in messages] == ["lazycron.E101"]
    assert message in messages[0].msg
    assert "s3cret" not in messages[0].msg


def test_a_bad_lease_is_lazycron_E003(django_site: Store) -> None:
    with settings_with(LEASE=0):
        messages = lazycron_checks()
    assert [m.id for m in messages] == ["lazycron.E003"]
    assert "LEASE" in messages[0].msg


@pytest.fixture
def unmigrated(django_site: Store, tmp_path: Path) -> Iterator[str]:
    alias = "lazycron_fresh"
    services.add_alias(
        alias, {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "fresh.db")}
    )
    yield alias
    services.remove_alias(alias)


def test_a_missing_migration_is_lazycron_W103(unmigrated: str) -> None:
    with settings_with(BACKEND="database", DATABASE=unmigrated):
        assert lazycron_checks() == []  # no database asked for: no I/O
        messages = lazycron_checks(databases=[unmigrated])
        assert [m.id for m in messages] == ["lazycron.W103"]
        assert f"manage.py migrate lazycron --database {unmigrated}" in messages[0].hint
        services.migrate(unmigrated)
        assert lazycron_checks(databases=[unmigrated]) == []


def test_an_unreachable_store_is_lazycron_W102(django_site: Store) -> None:
    services.redis_available()
    with settings_with(BACKEND=f"redis://127.0.0.1:{services.closed_port()}/0"):
        assert lazycron_checks() == []
        messages = lazycron_checks(databases=["default"])
    assert [m.id for m in messages] == ["lazycron.W102"]
    assert "cannot reach" in messages[0].msg


def test_the_migrations_match_the_model(django_site: Store) -> None:
    from django.core.management import call_command

    call_command("makemigrations", "lazycron", "--check", "--dry-run", verbosity=0)


def test_an_unreachable_database_is_lazycron_W102(postgresql_store: Store) -> None:
    down = {**postgresql_store.spec["conf"], "PORT": str(services.closed_port())}
    services.add_alias("lazycron_down", down)
    try:
        with settings_with(BACKEND="database", DATABASE="lazycron_down"):
            messages = lazycron_checks(databases=["lazycron_down"])
    finally:
        services.remove_alias("lazycron_down")
    assert [m.id for m in messages] == ["lazycron.W102"]
