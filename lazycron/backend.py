"""Deprecated alias, kept for code written against lazycron 0.1: the file backend moved to
:mod:`lazycron.backends.file`, and the protocol every backend implements is in
:mod:`lazycron.backends.base`. Import from :mod:`lazycron.backends` instead."""

import warnings

from .backends.base import Backend, StateUnreadableError, UnsafeStateDirError
from .backends.file import FileBackend, default_state_dir, safe_file_stem

__all__ = [
    "Backend",
    "FileBackend",
    "StateUnreadableError",
    "UnsafeStateDirError",
    "default_state_dir",
    "safe_file_stem",
]

warnings.warn(
    "lazycron.backend is deprecated; import FileBackend and the rest from lazycron.backends",
    DeprecationWarning,
    stacklevel=2,
)
