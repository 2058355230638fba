"""The state directory: missing, unwritable, read-only, full
(docs/design.md#failures-stay-inside).

Requests go through the real WSGI middleware, in-process, with the fake clock; the faults
are real: a directory removed, a directory the process's user may not write (a child
process running as ``nobody``, since root ignores permission bits), a read-only bind
mount and a 64 KiB tmpfs filled to the last byte.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import lazycron
from lazycron import Registry, Scheduler
from lazycron.backends import FileBackend
from lazycron.backends.file import FileLease
from lazycron.state import JobState
from lazycron.testing import FakeClock
from lazycron.wsgi import LazyCronMiddleware

from ._tools import fill, read_only, tmpfs

BODY = b"the app's own response\n"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [BODY]


def serve(scheduler: Scheduler, clock: FakeClock, seconds: int) -> None:
    """One request per fake second, each checked exactly as a server would."""
    middleware = LazyCronMiddleware(app, scheduler=scheduler)
    for _ in range(seconds):
        clock.advance(1)
        statuses: list[str] = []
        response = middleware({"PATH_INFO": "/"}, lambda s, h, e=None, out=statuses: out.append(s))
        body = b"".join(response)
        close = getattr(response, "close", None)
        if close is not None:
            close()  # never raises into the server
        assert statuses == ["200 OK"] and body == BODY
        assert scheduler.wait_idle(10)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


class InjectedWrites(FileBackend):
    """Fallback when the kernel will not let us mount: the same errno, from the writer."""

    failing: int | None = None

    def write(self, job_name: str, state: JobState, *, expected: int | None) -> bool:
        if self.failing is not None:
            raise OSError(self.failing, os.strerror(self.failing))
        return super().write(job_name, state, expected=expected)

    def claim(self, job_name: str, state: JobState, *, expected: int | None) -> FileLease | None:
        if self.failing is not None:
            raise OSError(self.failing, os.strerror(self.failing))
        return super().claim(job_name, state, expected=expected)


def test_missing_directory_is_created_private_and_jobs_resume(
    make_scheduler, clock, calls, tmp_path, lazycron_log
) -> None:
    state_dir = tmp_path / "deep" / "er" / "state"
    seen = calls(every=10, clock=clock)
    scheduler = make_scheduler(state_dir=state_dir)
    serve(scheduler, clock, 1)
    assert state_dir.stat().st_mode & 0o777 == 0o700
    serve(scheduler, clock, 10)
    assert len(seen) == 1
    shutil.rmtree(tmp_path / "deep")  # someone cleans up "temporary" files
    serve(scheduler, clock, 30)
    assert state_dir.stat().st_mode & 0o777 == 0o700
    # the state went with the directory: the job is new again, so it waits one interval
    # from when the loss was noticed, then runs on its new grid; no error is worth logging
    assert 2 <= len(seen) <= 3
    assert errors(lazycron_log) == []


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_unusable_filesystem_logs_once_and_jobs_resume(
    registry, clock, calls, tmp_path, lazycron_log, fault: str
) -> None:
    state_dir = tmp_path / "state"
    seen = calls(every=10, clock=clock)
    mount = tmpfs(state_dir) if fault == "full" else _nothing(state_dir)
    with mount as mounted_tmpfs:
        backend = InjectedWrites(state_dir)
        scheduler = Scheduler(registry, backend=backend, clock=clock, check_interval=0)
        serve(scheduler, clock, 11)
        assert len(seen) == 1
        if fault == "full":
            if mounted_tmpfs:
                filler = fill(state_dir)
            else:
                backend.failing = errno.ENOSPC
            with_fault: Any = _nothing(state_dir)
        else:
            with_fault = read_only(state_dir)
        with with_fault as mounted:
            if fault == "read-only" and not mounted:
                backend.failing = errno.EROFS
            print(f"{fault}: real fault = {bool(mounted_tmpfs or mounted)}")
            serve(scheduler, clock, 60)
            assert len(seen) == 1, "a job ran although its claim could not be written"
            messages = errors(lazycron_log)
            assert len(messages) == 1, messages  # one clear error, not one per request
            assert str(state_dir) in messages[0]
            assert ("Read-only" if fault == "read-only" else "No space left") in messages[0]
        # fixed: the mount is gone, or the disk has room again
        if fault == "full":
            if mounted_tmpfs:
                filler.unlink()
            backend.failing = None
        backend.failing = None
        serve(scheduler, clock, 12)
        assert len(seen) >= 2, "jobs did not resume by themselves"
        assert "usable again" in lazycron_log.text
        assert not list(state_dir.glob("*.tmp")) and not list(state_dir.glob(".*.tmp"))


class _nothing:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> bool:
        return False

    def __exit__(self, *exc: object) -> None:
        return None


def unwritable_scenario(state_dir: Path) -> dict[str, Any]:
    """Runs in a forked child that has dropped root: the scheduler's own user finds its
    directory read-only (mode 0500), then the operator fixes the mode."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                records.append(record.getMessage())

    logging.getLogger("lazycron").addHandler(Keep())
    registry, clock, seen = Registry(), FakeClock(), []
    lazycron.job(every=10, name="job", registry=registry)(lambda: seen.append(clock.time()))
    scheduler = Scheduler(registry, state_dir=state_dir, clock=clock, check_interval=0)
    serve(scheduler, clock, 11)
    phases = [len(seen)]
    os.chmod(state_dir, 0o500)  # the deploy script got the mode wrong
    serve(scheduler, clock, 60)
    phases.append(len(seen))
    errors = list(records)
    os.chmod(state_dir, 0o700)  # the operator fixes it
    serve(scheduler, clock, 12)
    phases.append(len(seen))
    return {"uid": os.getuid(), "phases": phases, "errors": errors}


def run_as_nobody(scenario: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Fork, drop root (which ignores permission bits) in the child, run ``scenario``.

    A fork rather than a new interpreter: the interpreter may live where ``nobody`` cannot
    read it (under /root), and everything needed is already imported.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        code = 1
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            payload = json.dumps(scenario())
            code = 0
        except BaseException:
            payload = json.dumps({"error": traceback.format_exc()})
        with os.fdopen(write_end, "w") as out:
            out.write(payload)
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as results:
        payload = results.read()
    _, status = os.waitpid(pid, 0)
    result: dict[str, Any] = json.loads(payload)
    assert os.waitstatus_to_exitcode(status) == 0, result.get("error")
    return result


def test_unwritable_directory_logs_once_and_jobs_resume() -> None:
    # Every path above the directory must be reachable for "nobody": not under tmp_path,
    # which pytest keeps private to root.
    base = Path(tempfile.mkdtemp(prefix="lazycron-unwritable-"))
    try:
        os.chmod(base, 0o755)
        if os.geteuid() == 0:
            os.chown(base, 65534, 65534)
        state_dir = base / "state"
        result = run_as_nobody(lambda: unwritable_scenario(state_dir))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert result["uid"] != 0
    phases = result["phases"]
    assert phases[:2] == [1, 1] and phases[2] >= 2  # ran, paused, resumed
    (message,) = result["errors"]  # once, not once per request
    assert str(state_dir) in message and "not writable" in message
