"""Fixtures for the multi-host tests: real servers sharing one store (see hosts.py)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import services
from tests.integration.servers import free_port, make_shared_dir

from .hosts import PrivateRedis


@pytest.fixture
def base_dir() -> Iterator[Path]:
    """Where the hosts' directories and job logs go (removed after)."""
    path = make_shared_dir("lazycron-multihost-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The local Redis, with a key prefix of this test's own (deleted after)."""
    services.redis_available()
    prefix = f"lazycron-mh-{uuid.uuid4().hex[:10]}"
    yield f"{services.REDIS_URL}?prefix={prefix}"
    services.delete_prefix(services.REDIS_URL, prefix)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, to stop, restart and flush."""
    services.redis_available()  # redis-py present (and the CI rule for a missing service)
    with PrivateRedis(free_port()) as server:
        yield server


@pytest.fixture
def postgresql() -> Iterator[services.Database]:
    """A PostgreSQL database of this test's own, created and dropped."""
    try:
        import psycopg
    except ImportError:
        services.require(False, "psycopg is missing: pip install 'psycopg[binary]'")
        raise
    name = f"lazycron_mh_{uuid.uuid4().hex[:10]}"
    db = services.Database(
        "postgresql", {"ENGINE": "django.db.backends.postgresql", "NAME": name, **services.PG}
    )
    try:
        db.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        services.require(False, f"PostgreSQL at 127.0.0.1:5432 is not usable ({exc})")
    try:
        yield db
    finally:
        services.drop_postgresql(db)
