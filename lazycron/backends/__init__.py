"""Backends: where job state lives and how ticks are claimed (see :mod:`.base`)."""

from .base import (
    Backend,
    BackendError,
    Lease,
    Snapshot,
    StateUnreadableError,
    UnsafeStateDirError,
)
from .file import FileBackend, default_state_dir
from .open import open_backend

__all__ = [
    "Backend",
    "BackendError",
    "FileBackend",
    "Lease",
    "Snapshot",
    "StateUnreadableError",
    "UnsafeStateDirError",
    "default_state_dir",
    "open_backend",
]
