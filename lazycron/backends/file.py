"""The file backend: one JSON file and one lock file per job, in a private directory.

It implements the claim protocol of :mod:`lazycron.backends.base`. Each job has its own
files, so jobs never contend for one shared blob (WP-Cron's lost updates) and a long job
never holds back another.

* The **lease** is the job's OS lock (``filelock``, ``flock`` underneath), taken without
  blocking. A claim takes it and its thread keeps it until ``finish``; a write takes it
  for the write only. The kernel frees it when the process dies: nothing to renew.
* The record **version** lives in the JSON (``revision``); a conditional write re-reads the
  file under the lock and compares.
* A lock file can be deleted under a live holder (a tmp cleaner, an operator). The next
  locker then locks a new inode and would not see the holder. So a locker checks that
  the path still names the inode it locked, and a run whose owner is alive on this host
  (pid *and* process start time, see :mod:`lazycron._owner`) counts as a live lease
  whatever the lock says.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import inspect
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .._owner import owner_alive
from ..state import MAX_STATE_BYTES, JobState, StateFormatError, decode_record, encode
from .base import CheckMark, Snapshot, StateUnreadableError, UnsafeStateDirError, new_version

__all__ = [
    "MAX_STATE_BYTES",
    "FileBackend",
    "FileLease",
    "default_state_dir",
    "safe_file_stem",
]

# A temp file older than this is left by a writer killed before its rename: a write takes
# milliseconds, so an hour is far past any live writer (and clock steps of minutes).
STALE_TEMP_AGE = 3600.0
_TEMP_NAME = re.compile(r"\.[A-Za-z0-9_-]+-[0-9a-f]{12}\.[0-9a-f]{8}\.tmp")
# How often prepare() looks for stale temp files (it runs at every dispatch).
_SWEEP_EVERY = 600.0
# Attempts at a lock whose file keeps being replaced under us before we stand down.
_LOCK_ATTEMPTS = 3


def default_state_dir(app_key: str | None = None) -> Path:
    """A per-user, per-application directory: ``$XDG_STATE_HOME/lazycron/<app>``.

    Never a predictable path in a shared directory such as /tmp, where another user could
    plant files first. ``app_key`` defaults to the current working directory, which all
    workers of one deployment share; pass ``state_dir=`` to choose the place yourself.
    """
    if env := os.environ.get("LAZYCRON_STATE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    key = app_key or os.getcwd()
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return Path(base) / "lazycron" / f"{_slug(Path(key).name or 'app')}-{digest}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:48] or "job"


def safe_file_stem(job_name: str) -> str:
    """A file name for a job: readable, confined to the directory, and collision-free.

    The slug keeps it readable (and strips ``/``, ``..`` and leading dots); the hash of the
    full name keeps two names that slug alike (``a/b`` and ``a_b``) on different files.
    """
    digest = hashlib.sha256(job_name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{_slug(job_name)}-{digest}"


def _lock_options() -> dict[str, Any]:
    # filelock 4 can silently fall back to a "soft" lock (a marker file) on filesystems
    # without flock. A soft lock outlives a crashed process, which is exactly the stuck
    # lock lazycron promises never to leave, so we refuse it where filelock lets us.
    params = inspect.signature(FileLock.__init__).parameters
    return {"fallback_to_soft": False} if "fallback_to_soft" in params else {}


_LOCK_OPTIONS = _lock_options()
# filelock >= 4.3 hands the locked descriptor to a callback: the place to check the inode.
_HAS_ON_ACQUIRED = "on_acquired" in inspect.signature(FileLock.__init__).parameters
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class _LockFileReplacedError(Exception):
    """The lock file's path no longer names the inode we locked (it was deleted or
    replaced between our open and our flock): our lock excludes nobody."""


class _FileJobLock:
    """A job's OS lock, taken without blocking, that checks it locked the file the path
    names.

    Created fresh for each attempt, in the thread that uses it: filelock's locks are
    thread-local and must never be inherited across ``fork``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.inode: tuple[int, int] | None = None
        options = dict(_LOCK_OPTIONS)
        if _HAS_ON_ACQUIRED:
            options["on_acquired"] = self._check_inode
        self._lock = FileLock(path, mode=0o600, **options)

    def _check_inode(self, fd: int) -> None:
        held = os.fstat(fd)
        self.inode = (held.st_dev, held.st_ino)
        if not self.still_named():
            raise _LockFileReplacedError(str(self.path))

    def still_named(self) -> bool:
        """Whether the lock path still names the inode we hold."""
        if self.inode is None:
            return True  # an older filelock: the owner check in read() still protects
        try:
            named = os.lstat(self.path)
        except FileNotFoundError:
            return False
        return (named.st_dev, named.st_ino) == self.inode

    def acquire(self) -> bool:
        """Try once per attempt, without blocking; ``False`` when held elsewhere, or when
        the file kept being replaced under us (we stand down rather than lock a stray)."""
        for _ in range(_LOCK_ATTEMPTS):
            try:
                self._lock.acquire(blocking=False)
            except Timeout:
                return False
            except _LockFileReplacedError:
                continue  # filelock released it; the next open finds the new file
            return True
        return False

    def release(self) -> None:
        self._lock.release()


class FileLease:
    """The lease of the file backend: the job's OS lock, held by the claiming thread."""

    renew_every: float | None = None  # the kernel frees the lock at death: nothing expires

    def __init__(self, backend: FileBackend, job_name: str, lock: _FileJobLock, token: str):
        self._backend = backend
        self._job_name = job_name
        self._lock = lock
        self._token = token
        self._held = True

    @property
    def token(self) -> str:
        return self._token

    def renew(self) -> bool:
        """Nothing to extend (the OS lock does not expire); ``False`` when the record no
        longer names this run (it was lost or replaced), as on every backend."""
        if not self._held:
            return False
        try:
            record = self._backend._read_record(self._job_name)
        except StateUnreadableError:
            return False
        current = record[0].current if record else None
        return current is not None and current.run_id == self._token

    def finish(self, apply: Callable[[JobState], None]) -> bool:
        if not self._held:
            return False
        try:
            record = self._backend._read_record(self._job_name)
        except StateUnreadableError:
            record = None
        if record is None or record[0].current is None or record[0].current.run_id != self.token:
            self.release()  # the record moved on without us: nothing of ours to write
            return False
        state, version = record
        apply(state)
        self._backend._replace(self._job_name, state, version + 1)  # OSError: we keep the lock
        self.release()
        return True

    def release(self) -> None:
        if self._held:
            self._held = False
            # "Never raises": the descriptor is closed whatever release reports.
            with contextlib.suppress(Exception):
                self._lock.release()


class FileBackend:
    """State files and lock files in one private directory, one pair per job."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        # Absolute now, so a later chdir (daemonising servers do that) cannot move it.
        self.directory = Path(directory).expanduser().absolute()
        self._next_sweep = -float("inf")

    @property
    def location(self) -> str:
        return str(self.directory)

    def prepare(self) -> None:
        try:
            info = os.stat(self.directory)
        except FileNotFoundError:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.stat(self.directory)
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(f"state directory {self.directory} is not a directory")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise UnsafeStateDirError(
                f"state directory {self.directory} belongs to uid {info.st_uid}, not to "
                f"this process (uid {os.geteuid()}); use a directory this user owns, or "
                f"`chown` it to the user the web server runs as"
            )
        if info.st_mode & (stat.S_IWOTH | stat.S_IWGRP):
            # As ssh refuses a group-writable ~/.ssh: a group member could forge job state.
            who = "world" if info.st_mode & stat.S_IWOTH else "group"
            raise UnsafeStateDirError(
                f"state directory {self.directory} is {who}-writable, so other local users "
                f"could forge job state; fix it with `chmod 700 {self.directory}`"
            )
        if not os.access(self.directory, os.W_OK | os.X_OK):
            # Say why: "not writable" sends an operator to chmod, which cannot fix a
            # read-only mount (and which root, who ignores mode bits, never needs).
            if os.statvfs(self.directory).f_flag & os.ST_RDONLY:
                raise OSError(
                    errno.EROFS,
                    f"state directory {self.directory} is on a Read-only file system; mount "
                    f"it read-write or choose a state_dir on a writable one",
                )
            raise PermissionError(
                f"state directory {self.directory} is not writable by uid {os.geteuid()}; "
                f"`chown` it to the user the web server runs as and `chmod 700` it"
            )
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + _SWEEP_EVERY
            self.remove_stale_temp_files()

    def remove_stale_temp_files(self, older_than: float = STALE_TEMP_AGE) -> list[Path]:
        """Delete temp files left by writers killed before their rename: only names of our
        own pattern (``.<job file>.<8 hex>.tmp``), only regular files older than
        ``older_than`` seconds. Returns what was removed."""
        removed: list[Path] = []
        cutoff = time.time() - older_than
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if not _TEMP_NAME.fullmatch(entry.name):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed.append(Path(entry.path))
                except FileNotFoundError:
                    continue  # another process cleaned it first
        return removed

    def path_for(self, job_name: str) -> Path:
        return self.directory / f"{safe_file_stem(job_name)}.json"

    def lock_path_for(self, job_name: str) -> Path:
        return self.directory / f"{safe_file_stem(job_name)}.lock"

    # -- the last check (CheckRecorder) -----------------------------------------------------

    @property
    def check_mark_path(self) -> Path:
        # No ".json" suffix: no job's state file (``<slug>-<hash>.json``) can have this name.
        return self.directory / "lazycron.last-check"

    def mark_check(self, mark: CheckMark) -> None:
        # Temp file and rename, no fsync: a mark lost in a crash is only a stale hint.
        path = self.check_mark_path
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        try:
            try:
                os.write(fd, mark.encode())
            finally:
                os.close(fd)
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)  # a full disk must not fill up with our temp files
            raise

    def last_check(self) -> CheckMark | None:
        try:
            fd = os.open(self.check_mark_path, os.O_RDONLY | _NOFOLLOW)
        except FileNotFoundError:
            return None
        try:
            return CheckMark.decode(os.read(fd, 4096))
        finally:
            os.close(fd)

    # -- the protocol ---------------------------------------------------------------------

    def read(self, job_name: str) -> Snapshot | None:
        record = self._read_record(job_name)
        if record is None:
            return None
        state, version = record
        return Snapshot(state, version, self._lease_live(job_name, state))

    def write(self, job_name: str, state: JobState, *, expected: int | None) -> bool:
        lock = self._lock(job_name)
        if not lock.acquire():
            return False
        try:
            return self._conditional_replace(job_name, state, expected, lock)
        finally:
            lock.release()

    def claim(self, job_name: str, state: JobState, *, expected: int | None) -> FileLease | None:
        if state.current is None:
            raise ValueError("a claim needs the run being claimed in state.current")
        lock = self._lock(job_name)
        if not lock.acquire():
            return None
        try:
            won = self._conditional_replace(job_name, state, expected, lock, claiming=True)
        except BaseException:
            lock.release()
            raise
        if not won:
            lock.release()
            return None
        return FileLease(self, job_name, lock, state.current.run_id)

    # -- the pieces -------------------------------------------------------------------------

    def _lock(self, job_name: str) -> _FileJobLock:
        return _FileJobLock(self.lock_path_for(job_name))

    def _lease_live(self, job_name: str, state: JobState) -> bool:
        """Whether a live holder has the job: only asked when a run is in progress."""
        if state.current is None:
            return False
        if owner_alive(state.current):
            return True  # whatever the lock file says (it may have been deleted)
        lock = self._lock(job_name)
        if not lock.acquire():
            return True
        lock.release()
        return False

    def _conditional_replace(
        self,
        job_name: str,
        state: JobState,
        expected: int | None,
        lock: _FileJobLock,
        *,
        claiming: bool = False,
    ) -> bool:
        """Under our lock: replace the record if it is still at ``expected`` and no live
        owner has a run in it (and, for a claim, the claimed tick is not older than the
        stored one, as on every backend)."""
        try:
            record = self._read_record(job_name)
        except StateUnreadableError:
            record = None  # undecodable counts as absent: a reset expects ``None``
        if (record[1] if record else None) != expected:
            return False
        if record is not None and record[0].current is not None and owner_alive(record[0].current):
            return False  # the lock file was deleted under a live run: it still owns the job
        if not lock.still_named():
            return False  # our lock no longer excludes anybody: stand down
        if claiming and record is not None and _moves_back(record[0], state):
            return False  # belt and braces: a claimed tick never moves backwards
        # A new record starts at an unpredictable version (see Backend.write in base.py).
        self._replace(job_name, state, new_version() if expected is None else expected + 1)
        return True

    def _read_record(self, job_name: str) -> tuple[JobState, int] | None:
        path = self.path_for(job_name)
        try:
            fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateUnreadableError(f"{path}: cannot open ({exc.strerror})") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise StateUnreadableError(f"{path}: not a regular file")
            data = os.read(fd, MAX_STATE_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) > MAX_STATE_BYTES:
            raise StateUnreadableError(f"{path}: larger than {MAX_STATE_BYTES} bytes")
        try:
            return decode_record(data)
        except StateFormatError as exc:
            raise StateUnreadableError(f"{path}: {exc}") from None

    def _replace(self, job_name: str, state: JobState, revision: int) -> None:
        # Write a private temp file, flush it to disk, then rename it over the old one:
        # readers see the old state or the new one, never half of one, even after a crash.
        path = self.path_for(job_name)
        temp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        try:
            data = encode(state, revision=revision)
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        os.close(fd)
        try:
            os.replace(temp, path)  # replaces a planted symlink itself, never its target
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(self.directory)


def _moves_back(stored: JobState, claimed: JobState) -> bool:
    if stored.last_tick is None:
        return False
    return claimed.last_tick is None or claimed.last_tick < stored.last_tick


def _fsync_directory(directory: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - directories cannot be opened there
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
