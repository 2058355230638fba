"""Who owns a run: this host, a process id and that process's start time.

A run in progress records its owner (:class:`~lazycron.state.Run` ``host``, ``pid``,
``proc_start``). On the same host that is enough to tell a live owner from a dead one,
even when its pid has been reused: a reused pid has another start time. The file backend
uses it so that a run is never settled as interrupted while its owner lives, whoever
deleted the lock file; this process also knows which of its own runs are live.

Where ``/proc`` is missing (macOS, Windows) the start time is ``None`` and only the OS
lock speaks for the owner, as before.
"""

from __future__ import annotations

import os
import socket
import threading

from .state import HOST_BYTES, Run, limit_text

__all__ = ["HOST", "owner_alive", "process_start_time", "this_process_start", "track"]

#: The host recorded in each run (``lazycron status`` shows it). ``$LAZYCRON_HOST`` names it
#: when the machine's hostname does not tell hosts apart (several containers sharing one
#: hostname, or two "hosts" started on one machine for a demo); set it per host, never to
#: another host's name: a run recorded under this host's name with a pid that is gone
#: here is taken for a dead one.
HOST = limit_text(os.environ.get("LAZYCRON_HOST", "").strip() or socket.gethostname(), HOST_BYTES)

_live_tokens: set[str] = set()
_live_lock = threading.Lock()
_own_start: tuple[int, int | None] = (-1, None)  # (pid, start time), recomputed after fork


def process_start_time(pid: int) -> int | None:
    """Field 22 of ``/proc/<pid>/stat`` (start time in clock ticks since boot), or
    ``None`` if the process does not exist (a zombie counts as dead: it runs nothing) or
    the platform has no ``/proc``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ")".
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        if fields[0] in (b"Z", b"X"):  # field 3, the state: zombie or dead
            return None
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def this_process_start() -> int | None:
    global _own_start  # noqa: PLW0603 - a per-process cache, keyed by pid for fork
    pid = os.getpid()
    if _own_start[0] != pid:
        _own_start = (pid, process_start_time(pid))
    return _own_start[1]


class track:  # noqa: N801 - used as a context manager, named like one
    """Marks a run token as live in this process while the block runs."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __enter__(self) -> None:
        with _live_lock:
            _live_tokens.add(self.token)

    def __exit__(self, *exc: object) -> None:
        with _live_lock:
            _live_tokens.discard(self.token)


def owner_alive(run: Run) -> bool:
    """True when ``run``'s owner is known to be alive and running it: a process on this
    host with the recorded pid *and* start time. ``False`` when it is dead, or when that
    cannot be told (another host, no start time recorded): then the lease decides."""
    if run.host != HOST or run.proc_start is None:
        return False
    if run.pid == os.getpid():
        if run.proc_start != this_process_start():
            return False  # an earlier process that had our pid (a container's pid 1)
        with _live_lock:
            return run.run_id in _live_tokens
    return process_start_time(run.pid) == run.proc_start
