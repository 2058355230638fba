"""Fixtures for the real-server integration tests (see servers.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.servers import KINDS, Kind, make_shared_dir


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory all server processes can write, whatever user they run as."""
    path = make_shared_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=sorted(KINDS))
def server_kind(request: pytest.FixtureRequest) -> Kind:
    """Each server kind in turn, checked for presence (fail in CI, skip locally)."""
    kind = KINDS[request.param]
    kind.check()
    return kind
