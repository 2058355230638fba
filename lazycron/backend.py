"""Deprecated alias: the file backend moved to :mod:`lazycron.backends.file`, and the
protocol every backend implements is in :mod:`lazycron.backends.base`. Import from
:mod:`lazycron.backends`; this module stays for code written against lazycron 0.1."""

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
