"""Operators' actions on a job's stored state: pause and resume.

A pause is part of the job's record (``JobState.paused``), written with the same
conditional ``write`` as every other change, so every process and host sees it at its next
attempt of the job: within one check interval. A write is refused while a live lease is
held (the job is running), so a pause waits for the run in progress to end, up to a
limit; the caller says so when it cannot.
"""

from __future__ import annotations

import getpass
import os
import threading
import uuid
from dataclasses import dataclass

from . import _owner
from .backends.base import StateUnreadableError
from .decision import Owner, paused, resumed, schedule_key
from .jobs import Job
from .runner import Runner
from .state import HOST_BYTES, JobState, Run, limit_text

__all__ = ["ControlResult", "default_author", "set_paused"]

# How often a pause waiting for a running job looks again.
POLL_EVERY = 0.2


@dataclass(frozen=True)
class ControlResult:
    """``state`` as written; ``None`` with ``running`` set when the job stayed busy."""

    state: JobState | None
    running: Run | None = None


def default_author() -> str:
    """Who pauses, when they do not say: ``user@host``."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name (a container with an unnamed uid)
        user = "unknown"
    return f"{user}@{_owner.HOST}"


def set_paused(
    runner: Runner, job: Job, *, pause: bool, by: str, wait: float = 30.0
) -> ControlResult:
    """Pause (or resume) ``job``, waiting up to ``wait`` seconds for a run in progress.

    Raises ``OSError`` when the store cannot be used."""
    by = limit_text(by, HOST_BYTES)
    deadline = runner.clock.monotonic() + wait
    while True:
        now = runner.clock.time()
        running: Run | None = None
        try:
            snapshot = runner.backend.read(job.name)
        except StateUnreadableError as exc:
            snapshot, expected, stored = None, exc.version, None
        else:
            expected = snapshot.version if snapshot else None
            stored = snapshot.state if snapshot else None
            if snapshot is not None and snapshot.lease_live:
                running = snapshot.state.current
        if running is None:
            state = _changed(runner, job, stored, pause=pause, by=by, now=now)
            if runner.backend.write(job.name, state, expected=expected):
                return ControlResult(state)
        if runner.clock.monotonic() >= deadline:
            return ControlResult(None, running)
        threading.Event().wait(POLL_EVERY)


def _changed(
    runner: Runner, job: Job, stored: JobState | None, *, pause: bool, by: str, now: float
) -> JobState:
    zone = runner.zone(job)
    if stored is None:
        # Never seen: record it as a first sight would, so the job's plan starts here.
        stored = JobState(
            first_seen=now,
            schedule=job.schedule.describe(),
            schedule_key=schedule_key(job, zone),
            since=now,
        )
    if pause:
        return paused(stored, now=now, by=by)
    owner = Owner(uuid.uuid4().hex, _owner.HOST, os.getpid(), _owner.this_process_start())
    return resumed(job, stored, now=now, zone=zone, owner=owner, history_limit=runner.history_limit)
