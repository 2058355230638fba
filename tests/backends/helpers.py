"""What the backend tests share: helpers only (the fixtures are in conftest.py).

* ``STORES`` and ``Store``: the real stores the contract suite runs on, and what a test
  can do to each;
* ``new_state``, ``first_sight``, ``claimed``, ``claim``, ``done``: the steps of the claim
  protocol as a host takes them.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lazycron.backends.base import Backend, Lease, Snapshot
from lazycron.state import JobState, Run

from .stores import open_spec

#: The stores every contract test runs against.
STORES = ["file", "redis", "postgresql", "mariadb", "sqlite"]


@dataclass
class Store:
    """A store under test: how to reach it, and the test-only ways to damage it."""

    name: str
    spec: dict[str, Any]  # for child processes (see stores.open_spec)
    corrupt: Callable[[str, bytes], None]  # overwrite a job's stored state bytes
    lose: Callable[[str], None]  # delete a job's record and lease, as a lost store would
    unreachable: Callable[[], Backend]  # a backend of this kind whose store is down
    lease_can_expire: bool = True  # False for the file backend: its lease is an OS lock

    def backend(self, **overrides: Any) -> Backend:
        """A new backend on this store: another "host" as far as the store can tell."""
        return open_spec(self.spec, **overrides)


def new_state() -> JobState:
    return JobState(first_seen=1_000.0, schedule="every 60s")


def claimed(snapshot: Snapshot | None, tick: float) -> JobState:
    """The state a host writes to claim ``tick``: last_tick moves, the run is current."""
    state = new_state() if snapshot is None else copy.deepcopy(snapshot.state)
    state.last_tick = tick
    state.current = Run(
        run_id=uuid.uuid4().hex, tick=tick, started=tick + 0.5, pid=1, host="test-host"
    )
    return state


def done(state: JobState) -> None:
    """What a finish applies: the run ends and goes into the history."""
    assert state.current is not None
    run = state.current
    run.outcome, run.ended = "ok", run.started + 1
    state.current = None
    state.record(run, limit=50)


def first_sight(backend: Backend, job: str) -> Snapshot:
    assert backend.write(job, new_state(), expected=None)
    snapshot = backend.read(job)
    assert snapshot is not None
    return snapshot


def claim(backend: Backend, job: str, tick: float) -> Lease | None:
    snapshot = backend.read(job)
    assert snapshot is not None
    return backend.claim(job, claimed(snapshot, tick), expected=snapshot.version)
