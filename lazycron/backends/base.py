"""The claim protocol: what every backend (files, Redis, a Django database) implements.

A backend keeps one *record* per job: the job's :class:`~lazycron.state.JobState` (last
claimed tick, the schedule it was claimed under, the run in progress, a bounded history),
a *version* that changes on every write, and a *lease* on the job.

Every change to a record is one atomic, conditional operation in the store:

* :meth:`Backend.write` replaces the state only if the record is still the one the caller
  read (same version, or still absent) **and no live lease is held on the job**. First
  sight, a schedule change, a max-lateness skip, a clock reset and settling an
  interrupted run all go through it.
* :meth:`Backend.claim` is the same compare-and-set, and in the same atomic operation it
  takes the job's lease. The new state carries the claimed tick in ``last_tick`` and the
  run in ``current``; the run's ``run_id`` is the lease's token. If it returns ``None``
  somebody else got there first (or holds the lease), and the caller does not run.
* :meth:`Lease.renew` keeps a lease alive while the job runs, and :meth:`Lease.finish`
  records the outcome and releases it. Both are conditional on the token: a holder that
  lost its lease (a pause longer than the lease, a partition) can never overwrite newer
  state, so its late finish is rejected and the caller logs it.

Where each backend gets its atomicity:

* **files**: one OS lock per job (``filelock``), which *is* the lease: a claim takes it
  and keeps it until ``finish``; a write takes it for the write only. The kernel frees it
  when the process dies, so there is nothing to renew and nothing to expire.
* **Redis**: one Lua script per operation over keys sharing a hash tag; the lease is a
  key with ``PX``, so expiry is judged by the server's clock.
* **SQL**: one conditional ``UPDATE ... WHERE version = %s AND (lease free or expired)``;
  a row count of 1 means the caller won. Lease expiry is compared with the database's
  ``now()``.

The decision of *what* to write (which tick is due, whether to skip or re-run) is made by
the runner from the snapshot it read, with no I/O; this module only says how a decision
is committed. No operation here is ever called on the request path.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..errors import ConfigurationError
from ..state import JobState

__all__ = [
    "Backend",
    "BackendError",
    "CheckMark",
    "CheckRecorder",
    "Lease",
    "Snapshot",
    "StateUnreadableError",
    "UnsafeStateDirError",
    "new_version",
]


class BackendError(OSError):
    """The store could not be used (unreachable, timed out, refused). Jobs do not run
    while it lasts (fail closed); the error is logged once and requests never see it.

    A subclass of ``OSError`` so callers handle a full disk and a lost Redis alike.
    """


class StateUnreadableError(Exception):
    """A job's stored state exists but cannot be decoded; the message says where and why.

    ``version`` is the record's version when the store keeps it apart from the state (SQL,
    Redis), so the runner can reset the record with a conditional write; ``None`` when the
    version was inside the undecodable bytes (files), where a reset expects "absent".
    """

    def __init__(self, message: str, *, version: int | None = None) -> None:
        super().__init__(message)
        self.version = version


class UnsafeStateDirError(ConfigurationError):
    """The state directory could be written by someone else; lazycron will not use it."""


@dataclass(frozen=True)
class Snapshot:
    """A job's record as read from the store, and the version to make a write conditional on
    (pass ``snapshot.version`` as ``expected``).

    ``lease_live`` is judged by the store: the file backend tries the job's OS lock (only
    when ``state.current`` is set, since that costs a system call or two); Redis looks at
    the lease key's ``PTTL``; SQL compares the lease's expiry with the database's clock.
    A run in ``state.current`` with no live lease belongs to a holder that is gone.
    """

    state: JobState
    version: int
    lease_live: bool


class Lease(Protocol):
    """The right to run one claimed tick (or one manual run) of one job.

    ``finish`` and ``release`` are called from the thread that claimed it: the file
    backend's lease is an OS lock, which ``filelock`` keeps per thread. ``renew`` may be
    called from a heartbeat thread (shared stores' leases expire while the job's own
    thread is busy running it).
    """

    @property
    def token(self) -> str:
        """The claimed run's ``run_id``; the fencing token of every later operation."""
        ...

    @property
    def renew_every(self) -> float | None:
        """Seconds between renewals while the job runs (a third of the lease), or ``None``
        when the lease cannot expire under a live holder (the file backend's OS lock)."""
        ...

    def renew(self) -> bool:
        """Extend the lease. ``False`` when it was lost: another holder may now claim the
        job, and this run's :meth:`finish` will be rejected. Raises ``BackendError`` when
        the store cannot be reached (the caller retries at the next renewal)."""
        ...

    def finish(self, apply: Callable[[JobState], None]) -> bool:
        """Apply ``apply`` to the job's *current* stored state (it clears ``current`` and
        records the run), write it, and release the lease, all only if the stored run in
        progress still carries this lease's token.

        ``False``: the token no longer matches (the lease was lost and the record moved
        on), nothing was written, and the caller logs the rejected finish. Raises
        ``OSError`` (``BackendError`` included) when the write could not be made; the
        caller keeps the outcome, keeps the lease and retries.
        """
        ...

    def release(self) -> None:
        """Give the lease up without writing anything (the run is then settled as
        interrupted by the next claimer). Never raises."""
        ...


class Backend(Protocol):
    """Where job records live, and how ticks are claimed. See the module docstring."""

    @property
    def location(self) -> str:
        """For humans: a directory, or a URL with any password removed."""
        ...

    def prepare(self) -> None:
        """Check that the store can be used, creating what it needs (a directory, a key
        prefix check). Raises ``OSError``/``BackendError`` or ``ConfigurationError``
        (an unsafe directory, an evicting Redis) with a message that names the fix."""
        ...

    def read(self, job_name: str) -> Snapshot | None:
        """The job's record, or ``None`` if it has none. Raises
        :class:`StateUnreadableError` for a record that cannot be decoded (the runner then
        starts the job afresh) and ``OSError`` when the store cannot be read."""
        ...

    def write(self, job_name: str, state: JobState, *, expected: int | None) -> bool:
        """Replace the job's state, only if the record's version is still ``expected``
        (``None``: the record is still absent, or, for the file backend, undecodable) and
        no live lease is held on the job. A successful write gives the record a new
        version. A new record starts at an unpredictable version, so that a host still
        holding a snapshot of a record the store lost (Redis flushed, a row deleted)
        can never match the record that replaces it.

        ``False`` when that condition did not hold (nothing was written).
        """
        ...

    def claim(self, job_name: str, state: JobState, *, expected: int | None) -> Lease | None:
        """:meth:`write` plus taking the job's lease, in one atomic operation.

        ``state.current`` is the run being claimed; its ``run_id`` becomes the lease's
        token. ``None`` when the condition did not hold: the caller must not run.
        """
        ...


@dataclass(frozen=True)
class CheckMark:
    """The last time any process checked for due jobs: when, and which process.

    ``lazycron why`` compares it with a job's due tick: a tick after the last check was
    missed because no request reached any process (or none since then)."""

    at: float
    host: str
    pid: int

    def encode(self) -> bytes:
        return json.dumps({"at": self.at, "host": self.host, "pid": self.pid}).encode()

    @classmethod
    def decode(cls, data: bytes | str) -> CheckMark | None:
        """The mark, or ``None`` for bytes that are not one (a mark is only a hint)."""
        try:
            raw = json.loads(data)
            mark = cls(at=float(raw["at"]), host=str(raw["host"]), pid=int(raw["pid"]))
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            return None
        return mark


@runtime_checkable
class CheckRecorder(Protocol):
    """A backend that keeps the site's last :class:`CheckMark`: one small record per
    store, overwritten (last writer wins; no condition, no lease). Each process writes it
    at most once per check interval, from a dispatcher thread, never on a request.
    A separate protocol so a backend without it still works; ``why`` then says less."""

    def mark_check(self, mark: CheckMark) -> None:
        """Record ``mark``. Raises ``OSError`` (``BackendError``) when the store fails."""
        ...

    def last_check(self) -> CheckMark | None:
        """The last mark written, or ``None``. Raises ``OSError`` when the store fails."""
        ...


def new_version() -> int:
    """The version a new record starts at (see :meth:`Backend.write`): random, so a record
    re-created after a loss never reuses an old version, and below 2**52, so that Lua's
    numbers, JSON readers and every SQL integer column hold it exactly."""
    return secrets.randbelow(1 << 52) + 1
