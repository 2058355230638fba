"""Where state lives and how a job is locked: the backend interface and the file backend.

A backend offers three things per job: read the state, write it atomically, and a
non-blocking lock that one thread holds for the whole run. The *claim* logic (re-read
under the lock, write the claim, then run) is backend-neutral and lives in
:mod:`lazycron.runner`, so a Redis or database backend only has to provide these three.

The file backend keeps one JSON file and one lock file per job in a private directory.
Each job has its own files, so jobs never contend for one shared blob (WP-Cron's lost
updates) and a long job never holds back another.
"""

from __future__ import annotations

import errno
import hashlib
import inspect
import os
import re
import secrets
import stat
import sys
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock, Timeout

from .errors import ConfigurationError
from .state import JobState, StateFormatError, decode, encode

__all__ = [
    "Backend",
    "FileBackend",
    "JobLock",
    "StateUnreadableError",
    "UnsafeStateDirError",
    "default_state_dir",
]

# A state file is a few kilobytes. Refuse to slurp a planted multi-gigabyte file.
MAX_STATE_BYTES = 1 << 20


class StateUnreadableError(Exception):
    """The stored state exists but cannot be used; the message says where and why."""


class UnsafeStateDirError(ConfigurationError):
    """The state directory could be written by someone else; lazycron will not use it."""


class JobLock(Protocol):
    def acquire(self) -> bool:
        """Try once, without blocking. True when this thread now holds the lock."""
        ...

    def release(self) -> None: ...


class Backend(Protocol):
    @property
    def location(self) -> str: ...

    def prepare(self) -> None:
        """Make sure state can be stored; raise ``OSError`` or ``UnsafeStateDirError`` if not."""
        ...

    def read(self, job_name: str) -> JobState | None:
        """The job's state, ``None`` if it has none, or raise :class:`StateUnreadableError`."""
        ...

    def write(self, job_name: str, state: JobState) -> None:
        """Replace the job's state atomically, or raise ``OSError``."""
        ...

    def lock(self, job_name: str) -> JobLock: ...


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
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class _FileJobLock:
    """A ``filelock.FileLock`` used only with non-blocking acquires.

    Created fresh for each attempt, in the thread that uses it: filelock's locks are
    thread-local and must never be inherited across ``fork``.
    """

    def __init__(self, path: Path) -> None:
        self._lock = FileLock(path, mode=0o600, **_LOCK_OPTIONS)

    def acquire(self) -> bool:
        try:
            self._lock.acquire(blocking=False)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        self._lock.release()


class FileBackend:
    """State files and lock files in one private directory, one pair per job."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        # Absolute now, so a later chdir (daemonising servers do that) cannot move it.
        self.directory = Path(directory).expanduser().absolute()

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
        if info.st_mode & stat.S_IWOTH:
            raise UnsafeStateDirError(
                f"state directory {self.directory} is world-writable, so any local user "
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

    def path_for(self, job_name: str) -> Path:
        return self.directory / f"{safe_file_stem(job_name)}.json"

    def read(self, job_name: str) -> JobState | None:
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
            return decode(data)
        except StateFormatError as exc:
            raise StateUnreadableError(f"{path}: {exc}") from None

    def write(self, job_name: str, state: JobState) -> None:
        # Write a private temp file, flush it to disk, then rename it over the old one:
        # readers see the old state or the new one, never half of one, even after a crash.
        path = self.path_for(job_name)
        temp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        try:
            data = encode(state)
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

    def lock(self, job_name: str) -> JobLock:
        return _FileJobLock(self.directory / f"{safe_file_stem(job_name)}.lock")


def _fsync_directory(directory: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - directories cannot be opened there
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
