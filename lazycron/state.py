"""Per-job state: the last claimed tick, the run in progress and a bounded history.

This module is the data model and its JSON form only; where the bytes live is a
backend's business (see :mod:`lazycron.backends`). Decoding is strict: anything that
is not exactly a state we wrote raises :class:`StateFormatError`, which callers treat
as "unreadable", never as a crash.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "ERROR_SUMMARY_BYTES",
    "HOST_BYTES",
    "MAX_HISTORY_LIMIT",
    "MAX_STATE_BYTES",
    "SCHEMA_VERSION",
    "JobState",
    "Outcome",
    "Pause",
    "Run",
    "StateFormatError",
    "Trigger",
    "decode",
    "decode_record",
    "encode",
    "limit_text",
]

SCHEMA_VERSION = 1

# What a reader accepts: a state is a few kilobytes, and a planted multi-gigabyte file must
# not be slurped. Everything a writer puts in a state is bounded so that a state we write
# always stays under this (see MAX_HISTORY_LIMIT and tests/test_state.py).
MAX_STATE_BYTES = 1 << 20
# Bounds on the only free-form texts of a run, in bytes of their JSON form (ASCII-escaped,
# so a character costs 1 to 12 bytes; the bound is on bytes, not characters).
ERROR_SUMMARY_BYTES = 1000
HOST_BYTES = 255
# The most runs a history may keep: 1 + 500 runs of the largest encoding a run can have
# (about 1.6 KB) stay well under MAX_STATE_BYTES; a test builds that worst case.
MAX_HISTORY_LIMIT = 500

# "enqueued": the tick was handed to a task queue (see lazycron.handoff); the task's own
# outcome is the queue's to keep.
Outcome = Literal["running", "ok", "failed", "interrupted", "skipped", "enqueued"]
Trigger = Literal["schedule", "rerun", "manual"]
_OUTCOMES = frozenset({"running", "ok", "failed", "interrupted", "skipped", "enqueued"})
_TRIGGERS = frozenset({"schedule", "rerun", "manual"})


class StateFormatError(ValueError):
    """The stored bytes are not a lazycron state of a version this code understands."""


@dataclass
class Run:
    """One execution of a job for one tick (or one manual run)."""

    run_id: str
    tick: float
    started: float
    pid: int
    host: str
    outcome: Outcome = "running"
    trigger: Trigger = "schedule"
    ended: float | None = None
    error: str | None = None
    skipped: int = 0  # earlier ticks coalesced into this run
    # The owning process's start time (clock ticks since boot, from /proc/<pid>/stat): with
    # host and pid it tells a live owner from a dead one whose pid was reused. ``None``
    # where the platform does not say, or in states written before it was recorded.
    proc_start: int | None = None
    # A tick handed to a task queue: the task result's id, the task backend's name and the
    # task's status when it was enqueued (an inline backend has finished it by then).
    # ``None`` for a job that runs on lazycron's thread, and in older states.
    task_id: str | None = None
    task_backend: str | None = None
    task_status: str | None = None
    # Why a "skipped" run did not run: "paused" or "max_lateness" (``None`` in states
    # written before it was recorded, and for runs that did run).
    reason: str | None = None

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    @property
    def lateness(self) -> float:
        return self.started - self.tick


@dataclass
class Pause:
    """An operator's pause of a job: since when, and who (``user@host``, or what they said)."""

    since: float
    by: str


@dataclass
class JobState:
    """Everything lazycron remembers about one job."""

    first_seen: float
    last_tick: float | None = None
    current: Run | None = None
    history: list[Run] = field(default_factory=list)
    schedule: str = ""  # for humans reading status; the code's declaration is the truth
    # The schedule the ticks are claimed under, with its zone ("0 3 * * * in Europe/Berlin",
    # "every 1m"), and when it was adopted. A declared schedule that differs starts the job
    # afresh from that moment. ``None`` in states written before they were recorded.
    schedule_key: str | None = None
    since: float | None = None
    # Set by ``lazycron pause``: due ticks are recorded as skipped (reason "paused").
    paused: Pause | None = None

    @property
    def reference(self) -> float:
        """The instant the next tick is counted from: the last claimed tick, or the moment
        the current schedule was adopted (first sight, a schedule change, a clock reset),
        whichever is later. ``last_tick`` only moves forward."""
        adopted = self.first_seen if self.since is None else self.since
        return adopted if self.last_tick is None else max(self.last_tick, adopted)

    @property
    def anchor(self) -> float:
        """Where an interval grid starts: the moment the current schedule was adopted."""
        return self.first_seen if self.since is None else self.since

    @property
    def last_run(self) -> Run | None:
        return self.history[-1] if self.history else None

    def record(self, run: Run, limit: int) -> None:
        self.history.append(run)
        del self.history[:-limit]


def limit_text(text: str, max_bytes: int) -> str:
    """``text`` cut so that its JSON form is at most ``max_bytes`` bytes (quotes included)."""
    if len(json.dumps(text)) <= max_bytes:
        return text
    low, high = 0, len(text)  # the longest prefix that fits, found by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if len(json.dumps(text[:middle] + "...")) <= max_bytes:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "..."


def encode(state: JobState, *, revision: int = 0) -> bytes:
    """The JSON form of ``state``; ``revision`` is the file backend's record version.

    Never more than :data:`MAX_STATE_BYTES`: a state read from elsewhere (an older
    lazycron, a hand edit) may carry more history than this one writes, and the oldest runs
    are dropped rather than writing a file no reader would accept.
    """
    payload = {"version": SCHEMA_VERSION, "revision": revision, **asdict(state)}
    while True:
        data = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
        history = payload["history"]
        if len(data) <= MAX_STATE_BYTES or not history:
            return data
        del history[: max(1, len(history) // 10)]


def decode(data: bytes) -> JobState:
    return decode_record(data)[0]


def decode_record(data: bytes) -> tuple[JobState, int]:
    """The state and its record version (0 for files written before it was kept)."""
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise StateFormatError(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise StateFormatError("not a JSON object")
    version = raw.get("version")
    if version != SCHEMA_VERSION:
        raise StateFormatError(
            f"schema version {version!r}, this lazycron reads version {SCHEMA_VERSION}"
        )
    try:
        current = raw.get("current")
        history = raw.get("history", [])
        if not isinstance(history, list):
            raise StateFormatError("history is not a list")
        key = raw.get("schedule_key")
        paused = raw.get("paused")
        state = JobState(
            first_seen=_number(raw["first_seen"]),
            last_tick=_optional_number(raw.get("last_tick")),
            current=None if current is None else _run(current),
            history=[_run(item) for item in history],
            schedule=str(raw.get("schedule", "")),
            schedule_key=None if key is None else _text(key),
            since=_optional_number(raw.get("since")),
            paused=None if paused is None else _pause(paused),
        )
        return state, _integer(raw.get("revision", 0))
    except (KeyError, TypeError, OverflowError) as exc:
        raise StateFormatError(f"missing or mistyped field ({exc!r})") from None


def _run(raw: Any) -> Run:
    if not isinstance(raw, dict):
        raise StateFormatError("a run is not a JSON object")
    outcome = raw["outcome"]
    trigger = raw.get("trigger", "schedule")
    if outcome not in _OUTCOMES or trigger not in _TRIGGERS:
        raise StateFormatError(f"unknown run outcome {outcome!r} or trigger {trigger!r}")
    error = raw.get("error")
    return Run(
        run_id=_text(raw["run_id"]),
        tick=_number(raw["tick"]),
        started=_number(raw["started"]),
        pid=_integer(raw["pid"]),
        host=_text(raw["host"]),
        outcome=outcome,
        trigger=trigger,
        ended=_optional_number(raw.get("ended")),
        error=None if error is None else _text(error),
        skipped=_integer(raw.get("skipped", 0)),
        proc_start=None if raw.get("proc_start") is None else _integer(raw["proc_start"]),
        task_id=_optional_text(raw.get("task_id")),
        task_backend=_optional_text(raw.get("task_backend")),
        task_status=_optional_text(raw.get("task_status")),
        reason=None if raw.get("reason") is None else _text(raw["reason"]),
    )


def _pause(raw: Any) -> Pause:
    if not isinstance(raw, dict):
        raise StateFormatError("a pause is not a JSON object")
    return Pause(since=_number(raw["since"]), by=_text(raw["by"]))


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StateFormatError(f"{value!r} is not a timestamp")
    return float(value)


def _optional_number(value: Any) -> float | None:
    return None if value is None else _number(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StateFormatError(f"{value!r} is not an integer")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise StateFormatError(f"{value!r} is not a string")
    return value
