"""The Redis backend against a private ``redis-server`` that the tests stop, hang, flush
and configure; plus what it shows and warns about.

The shared Redis (127.0.0.1:6379) is never stopped or flushed: each test that damages
Redis starts its own server on a free port, without persistence.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from lazycron.backends.base import BackendError

from . import services
from .helpers import claim, claimed, done, first_sight

TIMEOUT = 0.5  # the backend's socket timeouts in these tests


@dataclass
class PrivateRedis:
    port: int
    args: list[str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", *self.args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        import redis

        while True:
            try:
                redis.Redis(port=self.port, socket_timeout=1).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)


def private_redis(*args: str) -> Iterator[PrivateRedis]:
    services.redis_available()
    services.require(shutil.which("redis-server") is not None, "redis-server is missing")
    server = PrivateRedis(services.closed_port(), list(args))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server() -> Iterator[PrivateRedis]:
    yield from private_redis()


def backend_on(server: PrivateRedis, **options: Any) -> Any:
    from lazycron.backends.redis import RedisBackend

    return RedisBackend(server.url, prefix="faults", timeout=TIMEOUT, **options)


def fails_promptly(operation: Callable[[], object]) -> float:
    """Seconds until ``operation`` raised BackendError; fails (never hangs) if it did not
    within a bound, run on a thread so a missing timeout shows up as a failure."""
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            operation()
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    start = time.monotonic()
    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(4 * TIMEOUT + 2)
    assert outcome, "the operation hung: no timeout on the Redis call"
    assert isinstance(outcome[0], BackendError), outcome[0]
    assert isinstance(outcome[0], OSError)
    return time.monotonic() - start


def test_redis_stopped_then_restarted(server: PrivateRedis, job: str) -> None:
    backend = backend_on(server)
    first_sight(backend, job)
    server.stop()
    for operation in (
        lambda: backend.read(job),
        lambda: claim(backend, job, 60.0),
        backend.prepare,
    ):
        # The "short timeout on every network call", as behaviour: seconds, not
        # redis-py's default of ten retries with backoff.
        assert fails_promptly(operation) < 4 * TIMEOUT
    server.start()  # empty: no persistence, so the store was lost with it
    assert backend.read(job) is None
    first_sight(backend, job)
    assert claim(backend, job, 60.0) is not None


def test_a_hung_redis_times_out_and_recovers(server: PrivateRedis, job: str) -> None:
    backend = backend_on(server)
    first_sight(backend, job)
    server.signal(signal.SIGSTOP)
    try:
        assert fails_promptly(lambda: backend.read(job)) < 4 * TIMEOUT
    finally:
        server.signal(signal.SIGCONT)
    assert backend.read(job) is not None
    assert claim(backend, job, 60.0) is not None


def test_flushall_mid_lease_never_gives_the_claimed_tick_again(
    server: PrivateRedis, job: str
) -> None:
    """The store is lost while tick 60 runs. The holder's renew and late finish are
    rejected and do not resurrect the record; a host holding a snapshot from before the
    loss cannot claim with it, because the re-created record has a new random version.
    What the store cannot know: that tick 60 ran. The runner never claims a tick on a
    record it has just created (first sight waits for the next tick); see
    docs/backends.md, "Store lost"."""
    holder, other = backend_on(server), backend_on(server)
    before = first_sight(other, job)
    lease = claim(holder, job, 60.0)
    assert lease is not None
    stale = other.read(job)

    import redis

    redis.Redis(port=server.port).flushall()

    assert not lease.renew()
    assert not lease.finish(done)
    assert other.read(job) is None, "the stale finish re-created the record"
    for snapshot in (before, stale):
        assert other.claim(job, claimed(snapshot, 60.0), expected=snapshot.version) is None

    fresh = first_sight(other, job)
    assert fresh.version not in {before.version, stale.version}
    assert fresh.state.last_tick is None
    assert not lease.finish(done)
    assert other.read(job) == fresh


def test_location_hides_the_password() -> None:
    services.redis_available()
    from lazycron.backends.redis import RedisBackend

    backend = RedisBackend("rediss://user:s3cret@cache.example:6380/2?password=s3cret")
    assert "s3cret" not in backend.location
    assert backend.location == "rediss://user:***@cache.example:6380/2"


def test_bad_arguments_are_refused_at_construction() -> None:
    services.redis_available()
    from lazycron import ConfigurationError
    from lazycron.backends.redis import RedisBackend

    for bad in ("http://127.0.0.1:6379", "127.0.0.1:6379"):
        with pytest.raises(ConfigurationError, match="redis://"):
            RedisBackend(bad)
    with pytest.raises(ConfigurationError, match="hash tag"):
        RedisBackend("redis://127.0.0.1", prefix="a{b}")
    with pytest.raises(ConfigurationError, match="lease"):
        RedisBackend("redis://127.0.0.1", lease=0)
    with pytest.raises(ConfigurationError, match="client"):
        RedisBackend(object())


def test_prepare_warns_when_redis_may_evict_its_keys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    for server in private_redis("--maxmemory", "50mb", "--maxmemory-policy", "allkeys-lru"):
        backend = backend_on(server)
        caplog.set_level(logging.WARNING, logger="lazycron")
        backend.prepare()
        backend.prepare()
        warnings = [r.getMessage() for r in caplog.records if "maxmemory-policy" in r.getMessage()]
        assert len(warnings) == 1, warnings  # once per backend, not per dispatch
        assert "allkeys-lru" in warnings[0] and "noeviction" in warnings[0]


def test_no_warning_for_noeviction(server: PrivateRedis, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lazycron")
    backend_on(server).prepare()
    assert not caplog.records


def test_a_client_passed_in_is_used_as_is() -> None:
    services.redis_available()
    import redis

    from lazycron.backends.redis import RedisBackend

    client = redis.Redis.from_url(services.REDIS_URL, socket_timeout=None)
    backend = RedisBackend(client, prefix=f"lazycron-test-{services.RUN}")
    assert backend.client is client
    assert backend.location == "redis://127.0.0.1:6379/0"
    assert any("socket_timeout" in problem for problem in backend.problems())
    assert backend.read("never-written") is None


def test_the_core_imports_without_redis_py() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import lazycron, lazycron.backends\n"
        "from lazycron.backends import open_backend\n"
        "try:\n"
        "    open_backend('redis://127.0.0.1:6379/0')\n"
        "except lazycron.ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False,
        cwd=services.REPO, env={**os.environ, "PYTHONPATH": str(services.REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "lazycron[redis]" in result.stdout
