"""Fault injectors and helpers shared by the hardening tests.

The tests run as root in CI, where permission bits stop nothing. So faults are made in
ways that bite root as well: a read-only bind mount, a tiny tmpfs that fills up, a
process killed with SIGKILL. Where the kernel will not let us mount (an unprivileged
container), the same fault is injected one level up (an ``OSError`` with the same errno
from the writer), so the test still runs and still checks the same protection; the test
output says which way it went.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent.parent


def _mount(*argv: str) -> bool:
    result = subprocess.run(["mount", *argv], capture_output=True, check=False)
    return result.returncode == 0


def _umount(path: Path) -> None:
    # lazy: a file another thread still has open must not make the test hang or fail
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "64k") -> Iterator[bool]:
    """Mount a tiny tmpfs at ``path``; yields False (and mounts nothing) if not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    try:
        yield mounted
    finally:
        if mounted:
            _umount(path)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[bool]:
    """Make ``path`` a read-only bind mount of itself (EROFS for root too)."""
    mounted = _mount("--bind", str(path), str(path))
    if mounted and not _mount("-o", "remount,ro,bind", str(path)):
        _umount(path)
        mounted = False
    try:
        yield mounted
    finally:
        if mounted:
            _umount(path)


def fill(directory: Path) -> Path:
    """Fill the filesystem holding ``directory`` until it reports ENOSPC."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler


class Load:
    """Requests in a background thread, as fast as one keep-alive client can send them.

    Records every status code and every exception; ``pause()`` stops the traffic once the
    request in flight, if any, has its answer (so a worker killed meanwhile holds none).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.statuses: list[int] = []
        self.errors: list[BaseException] = []
        self.slowest = 0.0
        self._paused = threading.Event()
        self._in_flight = threading.Lock()  # held for each request, and its pause check
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def pause(self) -> None:
        self._paused.set()
        with self._in_flight:  # wait out the request being sent, if any
            pass

    def resume(self) -> None:
        self._paused.clear()

    def _run(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                with self._in_flight:
                    if not self._paused.is_set():
                        self._request(session)
                time.sleep(0.005)

    def _request(self, session: requests.Session) -> None:
        started = time.perf_counter()
        try:
            response = session.get(self.url, timeout=5)
            self.statuses.append(response.status_code)
        except requests.RequestException as exc:
            self.errors.append(exc)
        self.slowest = max(self.slowest, time.perf_counter() - started)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def wait_for(predicate: object, timeout: float, interval: float = 0.02) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def pid_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie counts: its files are already closed)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def env_for_site(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "LAZYCRON_STATE_DIR": str(tmp_path / "state"),
        "JOB_LOG": str(tmp_path / "jobs.log"),
        "CHECK_INTERVAL": "0",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def gunicorn(workers: int, *extra: str) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        "-w",
        str(workers),
        *extra,
        "-b",
        "127.0.0.1:0",
        "tests.apps.jobsite:application",
    ]


def os_environ_with(env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **env}
