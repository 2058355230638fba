"""The runner speaks only the claim protocol: shown here on a store whose leases expire
(as Redis and SQL leases do), kept in memory with real threads for the heartbeat.

The lease expiry is judged by the store's own (monotonic) clock, as a real store does;
the job schedule runs on the injected clock.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

import lazycron
from lazycron import Registry
from lazycron.backends import BackendError, Snapshot
from lazycron.jobs import Job
from lazycron.runner import Runner, Verdict
from lazycron.state import JobState, Run
from lazycron.testing import FakeClock

LEASE = 0.2


class MemoryBackend:
    """The protocol of lazycron.backends.base, in memory, with expiring leases."""

    location = "memory://test"

    def __init__(self) -> None:
        self.records: dict[str, tuple[JobState, int]] = {}
        self.leases: dict[str, tuple[str, float]] = {}
        self.mutex = threading.Lock()
        self.renewals = 0
        self.failing: str | None = None  # "read", "write", "claim", "finish"

    def _fail(self, operation: str) -> None:
        if self.failing == operation:
            raise BackendError(f"store unreachable during {operation}")

    def _live(self, name: str) -> bool:
        lease = self.leases.get(name)
        return lease is not None and lease[1] > time.monotonic()

    def prepare(self) -> None:
        pass

    def read(self, job_name: str) -> Snapshot | None:
        with self.mutex:
            self._fail("read")
            record = self.records.get(job_name)
            if record is None:
                return None
            return Snapshot(copy.deepcopy(record[0]), record[1], self._live(job_name))

    def write(self, job_name: str, state: JobState, *, expected: int | None) -> bool:
        with self.mutex:
            self._fail("write")
            return self._write(job_name, state, expected)

    def _write(self, job_name: str, state: JobState, expected: int | None) -> bool:
        record = self.records.get(job_name)
        if (record[1] if record else None) != expected or self._live(job_name):
            return False
        self.records[job_name] = (copy.deepcopy(state), (expected or 0) + 1)
        return True

    def claim(self, job_name: str, state: JobState, *, expected: int | None) -> MemoryLease | None:
        with self.mutex:
            self._fail("claim")
            if not self._write(job_name, state, expected):
                return None
            assert state.current is not None
            self.leases[job_name] = (state.current.run_id, time.monotonic() + LEASE)
            return MemoryLease(self, job_name, state.current.run_id)


class MemoryLease:
    renew_every = LEASE / 4

    def __init__(self, backend: MemoryBackend, job_name: str, token: str) -> None:
        self.backend, self.job_name, self.token = backend, job_name, token

    def renew(self) -> bool:
        with self.backend.mutex:
            lease = self.backend.leases.get(self.job_name)
            if lease is None or lease[0] != self.token:
                return False
            self.backend.leases[self.job_name] = (self.token, time.monotonic() + LEASE)
            self.backend.renewals += 1
            return True

    def finish(self, apply: Callable[[JobState], None]) -> bool:
        with self.backend.mutex:
            self.backend._fail("finish")
            record = self.backend.records.get(self.job_name)
            current = record[0].current if record else None
            if record is None or current is None or current.run_id != self.token:
                return False
            state = copy.deepcopy(record[0])
            apply(state)
            self.backend.records[self.job_name] = (state, record[1] + 1)
            self._drop()
            return True

    def release(self) -> None:
        with self.backend.mutex:
            self._drop()

    def _drop(self) -> None:
        if self.backend.leases.get(self.job_name, ("",))[0] == self.token:
            del self.backend.leases[self.job_name]


def wait_until(predicate: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def declare(func: Callable[[], object]) -> Job:
    registry = Registry()
    lazycron.job(every=60, name="job", registry=registry)(func)
    return registry.get("job")


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


def runner_for(backend: MemoryBackend, clock: FakeClock) -> Runner:
    return Runner(backend, clock, ZoneInfo("UTC"))


def test_the_lease_is_renewed_while_a_job_outlives_it(backend: MemoryBackend) -> None:
    clock, rival_saw = FakeClock(), []

    def long_job() -> None:
        # run for several lease lengths; a rival looks once the first lease would be over
        assert wait_until(lambda: backend.renewals >= 8)
        rival_saw.append(runner_for(backend, clock).attempt(job).verdict)

    job = declare(long_job)
    runner = runner_for(backend, clock)
    runner.attempt(job)  # first sight
    clock.advance(60)
    result = runner.attempt(job)
    assert result.ran is not None and result.ran.outcome == "ok"
    assert rival_saw == [Verdict.BUSY]  # renewed: the job was never free to claim
    state = runner.read(job)
    assert state is not None and state.current is None
    assert [r.outcome for r in state.history] == ["ok"]
    assert backend.leases == {}


def test_a_lost_lease_is_logged_and_the_late_finish_changes_nothing(
    backend: MemoryBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lazycron")
    clock = FakeClock()
    newer = Run(run_id="newer", tick=0.0, started=0.0, pid=2, host="elsewhere")

    def paused_job() -> None:
        # a pause longer than the lease: another holder takes the job over meanwhile
        with backend.mutex:
            del backend.leases["job"]
            state, version = backend.records["job"]
            taken = copy.deepcopy(state)
            taken.current = newer
            backend.records["job"] = (taken, version + 1)
        assert wait_until(lambda: "lost its lease" in caplog.text)

    job = declare(paused_job)
    runner = runner_for(backend, clock)
    runner.attempt(job)
    clock.advance(60)
    result = runner.attempt(job)
    assert result.ran is not None
    state = runner.read(job)
    assert state is not None and state.current == newer  # the newer holder's record stands
    assert state.history == []
    rejected = [r for r in caplog.records if "was not recorded" in r.getMessage()]
    assert len(rejected) == 1 and rejected[0].levelno == logging.ERROR


@pytest.mark.parametrize("operation", ["read", "write", "claim"])
def test_a_store_that_fails_means_no_run_logged_once_and_a_recovery(
    backend: MemoryBackend, caplog: pytest.LogCaptureFixture, operation: str
) -> None:
    clock, ran = FakeClock(), []
    job = declare(lambda: ran.append(clock.time()))
    runner = runner_for(backend, clock)
    if operation != "write":
        runner.attempt(job)  # first sight, written while the store works
    backend.failing = operation
    for _ in range(5):
        clock.advance(60)
        assert runner.attempt(job).verdict is Verdict.FAILED
    assert ran == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "store unreachable" in errors[0] and "paused" in errors[0]
    backend.failing = None
    if operation == "write":
        runner.attempt(job)
    clock.advance(60)
    assert runner.attempt(job).ran is not None
    assert "usable again" in caplog.text


def test_an_outcome_the_store_refuses_is_retried_with_the_lease_held(
    backend: MemoryBackend, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    job = declare(lambda: setattr(backend, "failing", "finish"))
    runner = runner_for(backend, clock)
    runner.attempt(job)
    clock.advance(60)
    outcome = threading.Thread(target=runner.attempt, args=(job,))
    outcome.start()
    assert wait_until(lambda: "cannot be written" in caplog.text)
    assert wait_until(lambda: backend.renewals >= 8)  # the lease outlives the job, renewed
    assert runner_for(backend, clock).attempt(job).verdict is Verdict.BUSY
    backend.failing = None
    outcome.join(30)
    state = runner.read(job)
    assert state is not None and [r.outcome for r in state.history] == ["ok"]
