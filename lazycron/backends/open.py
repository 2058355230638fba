"""``open_backend(spec)``: a backend from what a user wrote (an object, a path, a URL)."""

from __future__ import annotations

import importlib
import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import ConfigurationError
from .base import Backend

__all__ = ["REDIS_SCHEMES", "describe", "hide_password", "open_backend"]

REDIS_SCHEMES = ("redis://", "rediss://")


def open_backend(spec: Backend | str | os.PathLike[str], **options: Any) -> Backend:
    """The backend ``spec`` names.

    * a backend object: itself (``options`` must then be empty);
    * ``"redis://host:port/db"`` or ``"rediss://..."``: a :class:`~.redis.RedisBackend`
      (``options`` such as ``prefix=`` and ``lease=`` are passed on). The URL may carry
      them too, as ``?prefix=mysite&lease=30``, so that a URL alone (an environment
      variable, ``LAZYCRON["BACKEND"]``, ``--backend``) says everything;
    * a path (``str`` or ``os.PathLike``): the file backend in that directory.

    Raises :class:`~lazycron.ConfigurationError` for anything else, naming what is accepted.
    """
    if isinstance(spec, os.PathLike):
        return _file_backend(os.fspath(spec), options)
    if not isinstance(spec, str):
        if callable(getattr(spec, "claim", None)) and callable(getattr(spec, "read", None)):
            if options:
                raise ConfigurationError(
                    f"options {sorted(options)} apply to a backend URL, not to a backend "
                    "object: configure the object itself"
                )
            return spec
        raise ConfigurationError(
            f"backend={spec!r}: expected a backend object, a directory path, or a "
            "redis:// or rediss:// URL"
        )
    if spec.lower().startswith(REDIS_SCHEMES):
        try:
            from .redis import RedisBackend
        except ImportError as exc:
            raise ConfigurationError(
                f"the Redis backend needs redis-py ({exc}): pip install 'lazycron[redis]'"
            ) from None
        url, from_query = _lazycron_options(spec)
        return RedisBackend(url, **{**from_query, **options})
    scheme = urlsplit(spec).scheme
    if "://" in spec or (scheme and len(scheme) > 1 and ":" in spec and "/" not in spec):
        raise ConfigurationError(
            f"backend {scheme or spec!r}: unknown URL scheme; lazycron takes redis:// and "
            "rediss:// URLs, or a directory path for the file backend"
        )
    return _file_backend(spec, options)


def _file_backend(path: str, options: dict[str, Any]) -> Backend:
    if options:
        raise ConfigurationError(f"options {sorted(options)} do not apply to the file backend")
    # Imported by name: the file backend moves onto the claim protocol (base.py) in its own
    # module, lazycron.backends.file.
    try:
        module = importlib.import_module(f"{__package__}.file")
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            f"backend {path!r}: the file backend is not available on the claim protocol yet ({exc})"
        ) from None
    backend: Backend = module.FileBackend(path)
    return backend


_QUERY_OPTIONS = {"prefix": str, "lease": float}


def _lazycron_options(url: str) -> tuple[str, dict[str, Any]]:
    """The URL without lazycron's own query parameters (redis-py would refuse them), and
    those parameters as keyword arguments."""
    parts = urlsplit(url)
    kept, options = [], {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _QUERY_OPTIONS:
            kept.append((key, value))
            continue
        try:
            options[key] = _QUERY_OPTIONS[key](value)
        except ValueError:
            raise ConfigurationError(
                f"{hide_password(url)!r}: ?{key}={value!r} must be a number of seconds"
            ) from None
    return urlunsplit(parts._replace(query=urlencode(kept))), options


def hide_password(url: str) -> str:
    """The URL without its password (nor a query string, where ``password=`` may be)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username or parts.password:
        user = parts.username or ""
        netloc = f"{user}{':***' if parts.password else ''}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def describe(backend: Backend) -> str:
    """For messages: "state directory /srv/x" for the file backend, "store redis://..."
    for a shared one (so that a Redis outage is not reported as a directory problem)."""
    from .file import FileBackend

    kind = "state directory" if isinstance(backend, FileBackend) else "store"
    return f"{kind} {backend.location}"
