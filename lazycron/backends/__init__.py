"""Backends: where job state lives and how ticks are claimed (see :mod:`.base`)."""

from .base import (
    Backend,
    BackendError,
    Lease,
    Snapshot,
    StateUnreadableError,
    UnsafeStateDirError,
)
from .open import open_backend

__all__ = [
    "Backend",
    "BackendError",
    "Lease",
    "Snapshot",
    "StateUnreadableError",
    "UnsafeStateDirError",
    "open_backend",
]
