"""The Redis backend: job records shared by every host that reaches one Redis.

Each job has two keys that share one hash tag, so Redis Cluster keeps them in one slot:

* ``{prefix:job}:record``, a hash: ``version``, ``state`` (the encoded
  :class:`~lazycron.state.JobState`, opaque here), ``last_tick`` and ``token`` (the run in
  progress, i.e. whose lease this is);
* ``{prefix:job}:lease``, a string holding the token, set with ``PX``: Redis expires it
  by its own clock, so no host's clock decides when a lease is over.

Every operation is one Lua script, which Redis runs atomically. No retries: an error or
a timeout raises :class:`~lazycron.backends.base.BackendError` at once and the job does
not run (fail closed). A new record starts at a random version, so a host holding a
snapshot from before the store was lost (``FLUSHALL``, a restart without persistence)
cannot mistake the re-created record for the one it read.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .._log import logger
from ..errors import ConfigurationError
from ..state import JobState, StateFormatError, decode, encode
from .base import BackendError, CheckMark, Snapshot, StateUnreadableError, new_version
from .open import hide_password

__all__ = ["DEFAULT_TIMEOUT", "RedisBackend", "RedisLease"]

#: Seconds for connecting and for each reply, on a client built from a URL.
DEFAULT_TIMEOUT = 2.0
# Policies under which Redis may delete our keys when it reaches maxmemory.
_EVICTING = "volatile-* evicts the lease key (it has a TTL); allkeys-* evicts records too"

_READ = """
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return false end
return {version, redis.call('HGET', KEYS[1], 'state'), redis.call('PTTL', KEYS[2])}
"""

# ARGV: expected version ('' = absent), state, last_tick ('' = none), version of a new record
_WRITE = """
local version = redis.call('HGET', KEYS[1], 'version')
if ARGV[1] == '' then
  if version then return false end
elseif version ~= ARGV[1] then return false end
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
if version then redis.call('HINCRBY', KEYS[1], 'version', 1)
else redis.call('HSET', KEYS[1], 'version', ARGV[4]) end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'last_tick', ARGV[3])
redis.call('HDEL', KEYS[1], 'token')
return redis.call('HGET', KEYS[1], 'version')
"""

# ARGV: as _WRITE, then the token and the lease in milliseconds
_CLAIM = """
local version = redis.call('HGET', KEYS[1], 'version')
if ARGV[1] == '' then
  if version then return false end
elseif version ~= ARGV[1] then return false end
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
-- belt and braces: the claimed tick never moves backwards
local stored = redis.call('HGET', KEYS[1], 'last_tick')
if stored and stored ~= '' then
  if ARGV[3] == '' or tonumber(ARGV[3]) < tonumber(stored) then return false end
end
if version then redis.call('HINCRBY', KEYS[1], 'version', 1)
else redis.call('HSET', KEYS[1], 'version', ARGV[4]) end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'last_tick', ARGV[3], 'token', ARGV[5])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
return redis.call('HGET', KEYS[1], 'version')
"""

# ARGV: token, lease in milliseconds. The record still names this run: nobody claimed or
# wrote since, so (re)taking the lease is safe even if it had expired meanwhile.
_RENEW = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
"""

# ARGV: token
_LOAD_OWN = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return false end
return {redis.call('HGET', KEYS[1], 'version'), redis.call('HGET', KEYS[1], 'state')}
"""

# ARGV: token, version read by _LOAD_OWN, state, last_tick. 1 done, 0 lost, -1 moved: retry
_FINISH = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[2] then return -1 end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'last_tick', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HDEL', KEYS[1], 'token')
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""

# ARGV: token
_RELEASE = """
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _tick_arg(state: JobState) -> str:
    return "" if state.last_tick is None else repr(state.last_tick)


def validate_lease(lease: object) -> float:
    """The lease in seconds, or a ConfigurationError naming the problem."""
    if (
        isinstance(lease, bool)
        or not isinstance(lease, int | float)
        or not math.isfinite(lease)
        or lease < 0.01
    ):
        raise ConfigurationError(f"lease={lease!r}: must be a number of seconds >= 0.01")
    return float(lease)


class RedisBackend:
    """Job records in Redis. See the module docstring.

    :param url_or_client: a ``redis://`` or ``rediss://`` URL, or a ``redis.Redis`` (or
        ``redis.RedisCluster``) client. A client built from a URL gets short timeouts
        (``timeout`` seconds; the URL's ``socket_timeout=`` and ``socket_connect_timeout=``
        win) and no retries. A client you pass is used as it is: give it a short
        ``socket_timeout`` yourself (``prepare`` warns when it has none).
    :param prefix: the start of every key; one prefix per site sharing a Redis.
    :param lease: seconds a claim holds the job without being renewed.
    """

    def __init__(
        self,
        url_or_client: str | Any,
        *,
        prefix: str = "lazycron",
        lease: float = 60.0,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not isinstance(prefix, str) or not prefix or "{" in prefix or "}" in prefix:
            raise ConfigurationError(
                f"prefix={prefix!r}: must be a non-empty string without '{{' or '}}' "
                "(they would break the key's hash tag)"
            )
        self.prefix = prefix
        self.lease = validate_lease(lease)
        if isinstance(url_or_client, str):
            scheme = urlsplit(url_or_client).scheme
            if scheme not in {"redis", "rediss"}:
                raise ConfigurationError(
                    f"{hide_password(url_or_client)!r} is not a Redis URL: it must start "
                    "with redis:// or rediss://"
                )
            url = scheme + url_or_client[len(scheme) :]  # redis-py wants it in lower case
            self._location = hide_password(url)
            self.client: Any = redis.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
        else:
            if not callable(getattr(url_or_client, "register_script", None)):
                raise ConfigurationError(
                    f"RedisBackend needs a redis:// URL or a redis-py client, "
                    f"not {type(url_or_client).__name__}"
                )
            self.client = url_or_client
            self._location = _client_location(url_or_client)
        register = self.client.register_script
        self._read = register(_READ)
        self._write = register(_WRITE)
        self._claim = register(_CLAIM)
        self._renew = register(_RENEW)
        self._load_own = register(_LOAD_OWN)
        self._finish = register(_FINISH)
        self._release = register(_RELEASE)
        self._checked = False
        self._check_lock = threading.Lock()

    @property
    def location(self) -> str:
        return self._location

    @property
    def lease_ms(self) -> int:
        return max(1, round(self.lease * 1000))

    def keys(self, job_name: str) -> list[str]:
        """The job's record and lease keys (one hash tag: one Cluster slot)."""
        tag = f"{{{self.prefix}:{job_name}}}"
        return [f"{tag}:record", f"{tag}:lease"]

    def call(self, script: Any, job_name: str, *args: object) -> Any:
        """Run one script on the job's keys; any Redis failure becomes BackendError."""
        try:
            return script(keys=self.keys(job_name), args=list(args))
        except redis.RedisError as exc:
            raise BackendError(f"Redis at {self._location}: {exc}") from exc

    # -- the last check (CheckRecorder) ---------------------------------------------------

    @property
    def check_mark_key(self) -> str:
        # Outside every job's "{prefix:job}:..." keys: no job name can produce it.
        return f"{self.prefix}:last-check"

    def mark_check(self, mark: CheckMark) -> None:
        try:
            self.client.set(self.check_mark_key, mark.encode())
        except redis.RedisError as exc:
            raise BackendError(f"Redis at {self._location}: {exc}") from exc

    def last_check(self) -> CheckMark | None:
        try:
            data = self.client.get(self.check_mark_key)
        except redis.RedisError as exc:
            raise BackendError(f"Redis at {self._location}: {exc}") from exc
        return None if data is None else CheckMark.decode(data)

    # -- Backend ----------------------------------------------------------------------

    def prepare(self) -> None:
        """Ping the server; the first time, also warn about settings that lose keys."""
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise BackendError(f"Redis at {self._location}: {exc}") from exc
        with self._check_lock:
            if self._checked:
                return
            self._checked = True
        for problem in self.problems():
            logger.warning("%s", problem)

    def problems(self) -> list[str]:
        """What in this Redis (or client) weakens the guarantee; empty when all is well."""
        found = []
        policy = self.eviction_problem()
        if policy:
            found.append(policy)
        if _socket_timeout(self.client) is None:
            found.append(
                f"the Redis client for {self._location} has no socket_timeout, so a hung "
                "Redis would stall lazycron's threads (never requests) indefinitely; create "
                "it with socket_timeout=2"
            )
        return found

    def eviction_problem(self) -> str | None:
        """A message when Redis may evict lazycron's keys (``maxmemory`` set and
        ``maxmemory-policy`` not ``noeviction``). Read with INFO, which managed services
        that disable CONFIG still answer."""
        try:
            info = self.client.info("memory")
        except redis.RedisError as exc:
            raise BackendError(f"Redis at {self._location}: {exc}") from exc
        if isinstance(info, dict) and "maxmemory_policy" not in info:
            # A Cluster client answers per node; any evicting node is a problem.
            nodes = [v for v in info.values() if isinstance(v, dict)]
        else:
            nodes = [info]
        for node in nodes:
            policy = _text(node.get("maxmemory_policy", "noeviction"))
            if policy != "noeviction" and int(node.get("maxmemory", 0) or 0) > 0:
                return (
                    f"Redis at {self._location} has maxmemory-policy {policy} "
                    f"({_EVICTING}): an evicted lease lets the next tick start while "
                    "this one runs, an evicted record makes lazycron see the job afresh. "
                    "Use `maxmemory-policy noeviction` (or a Redis of its own for lazycron)"
                )
        return None

    def read(self, job_name: str) -> Snapshot | None:
        reply = self.call(self._read, job_name)
        if not reply:
            return None
        version, data, ttl = int(reply[0]), reply[1], int(reply[2])
        try:
            state = decode(data or b"")
        except StateFormatError as exc:
            raise StateUnreadableError(
                f"{self.keys(job_name)[0]} at {self._location}: {exc}", version=version
            ) from None
        # PTTL: -2 no key, -1 a key without expiry (never set so by us: treat as held)
        return Snapshot(state=state, version=version, lease_live=ttl > 0 or ttl == -1)

    def write(self, job_name: str, state: JobState, *, expected: int | None) -> bool:
        reply = self.call(
            self._write,
            job_name,
            "" if expected is None else str(expected),
            encode(state),
            _tick_arg(state),
            new_version(),
        )
        return bool(reply)

    def claim(self, job_name: str, state: JobState, *, expected: int | None) -> RedisLease | None:
        if state.current is None:
            raise ValueError("claim() needs state.current: the run being claimed")
        token = state.current.run_id
        reply = self.call(
            self._claim,
            job_name,
            "" if expected is None else str(expected),
            encode(state),
            _tick_arg(state),
            new_version(),
            token,
            self.lease_ms,
        )
        return RedisLease(self, job_name, token) if reply else None


class RedisLease:
    """A claimed run's lease: renew, finish and release are all conditional on the token."""

    def __init__(self, backend: RedisBackend, job_name: str, token: str) -> None:
        self._backend = backend
        self._job = job_name
        self._token = token

    @property
    def token(self) -> str:
        return self._token

    @property
    def renew_every(self) -> float:
        return self._backend.lease / 3

    def renew(self) -> bool:
        backend = self._backend
        return bool(backend.call(backend._renew, self._job, self._token, backend.lease_ms))

    def finish(self, apply: Callable[[JobState], None]) -> bool:
        backend = self._backend
        for _ in range(5):
            reply = backend.call(backend._load_own, self._job, self._token)
            if not reply:
                return False
            version, data = _text(reply[0]), reply[1]
            try:
                state = decode(data or b"")
            except StateFormatError as exc:
                raise BackendError(f"cannot finish job {self._job!r}: {exc}") from None
            apply(state)
            done = int(
                backend.call(
                    backend._finish, self._job, self._token, version, encode(state),
                    _tick_arg(state),
                )
            )  # fmt: skip
            if done >= 0:
                return done == 1
        raise BackendError(f"job {self._job!r}: the record kept changing under finish()")

    def release(self) -> None:
        try:
            self._backend.call(self._backend._release, self._job, self._token)
        except Exception:  # never raises: the lease expires by itself anyway
            logger.debug("could not release the lease of %r", self._job, exc_info=True)


def _client_location(client: Any) -> str:
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    if not isinstance(kwargs, dict):
        return f"redis ({type(client).__name__})"
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    host, port = kwargs.get("host", "localhost"), kwargs.get("port", 6379)
    return f"redis://{host}:{port}/{kwargs.get('db', 0)}"


def _socket_timeout(client: Any) -> float | None:
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    if not isinstance(kwargs, dict):
        return 0.0  # a Cluster client: we cannot tell, and do not nag
    timeout = kwargs.get("socket_timeout")
    return None if timeout is None else float(timeout)
