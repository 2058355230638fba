"""Per-job state: the last claimed tick, the run in progress and a bounded history.

This module is the data model and its JSON form only; where the bytes live is a
backend's business (see :mod:`lazycron.backend`). Decoding is strict: anything that
is not exactly a state we wrote raises :class:`StateFormatError`, which callers treat
as "unreadable", never as a crash.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "SCHEMA_VERSION",
    "JobState",
    "Outcome",
    "Run",
    "StateFormatError",
    "Trigger",
    "decode",
    "encode",
]

SCHEMA_VERSION = 1

Outcome = Literal["running", "ok", "failed", "interrupted", "skipped"]
Trigger = Literal["schedule", "rerun", "manual"]
_OUTCOMES = frozenset({"running", "ok", "failed", "interrupted", "skipped"})
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

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    @property
    def lateness(self) -> float:
        return self.started - self.tick


@dataclass
class JobState:
    """Everything lazycron remembers about one job."""

    first_seen: float
    last_tick: float | None = None
    current: Run | None = None
    history: list[Run] = field(default_factory=list)
    schedule: str = ""  # for humans reading status; the code's declaration is the truth

    @property
    def reference(self) -> float:
        """The instant the next tick is counted from: the last claimed tick, or first sight."""
        return self.first_seen if self.last_tick is None else self.last_tick

    @property
    def last_run(self) -> Run | None:
        return self.history[-1] if self.history else None

    def record(self, run: Run, limit: int) -> None:
        self.history.append(run)
        del self.history[:-limit]


def encode(state: JobState) -> bytes:
    payload = {"version": SCHEMA_VERSION, **asdict(state)}
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def decode(data: bytes) -> JobState:
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
        return JobState(
            first_seen=_number(raw["first_seen"]),
            last_tick=_optional_number(raw.get("last_tick")),
            current=None if current is None else _run(current),
            history=[_run(item) for item in history],
            schedule=str(raw.get("schedule", "")),
        )
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
    )


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


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise StateFormatError(f"{value!r} is not a string")
    return value
