"""Backends built from a JSON-able spec, in this process or in a child process.

A spec names a store and how to reach it, so a racing child process builds exactly the
backend the test's own process uses:

* ``{"kind": "redis", "url": ..., "prefix": ..., "lease": ...}``
* ``{"kind": "database", "alias": ..., "conf": <Django DATABASES entry>, "lease": ...}``
* ``{"kind": "file", "directory": ...}`` (the lease is an OS lock: no ``lease``)
"""

from __future__ import annotations

from typing import Any

from lazycron.backends.base import Backend

#: Every backend opened in this process, so a test's connections are closed when it ends
#: rather than by the garbage collector in some later test (a ResourceWarning there).
OPENED: list[Backend] = []


def close_opened() -> None:
    while OPENED:
        close = getattr(OPENED.pop(), "close", None)
        if close is not None:
            close()


def open_spec(spec: dict[str, Any], **overrides: Any) -> Backend:
    backend = _open(spec, **overrides)
    OPENED.append(backend)
    return backend


def _open(spec: dict[str, Any], **overrides: Any) -> Backend:
    spec = {**spec, **overrides}
    if spec["kind"] == "redis":
        from lazycron.backends.redis import RedisBackend

        return RedisBackend(
            spec["url"],
            prefix=spec["prefix"],
            lease=spec.get("lease", 60.0),
            timeout=spec.get("timeout", 2.0),
        )
    if spec["kind"] == "file":
        from lazycron.backends.file import FileBackend

        return FileBackend(spec["directory"])
    if spec["kind"] == "database":
        configure_child_django(spec)
        from lazycron.django.database import DatabaseBackend

        return DatabaseBackend(spec["alias"], lease=spec.get("lease", 60.0))
    raise ValueError(f"unknown store kind {spec['kind']!r}")


def configure_child_django(spec: dict[str, Any]) -> None:
    """In a child process: Django with the spec's database as its only one (``default``
    and the spec's alias both name it)."""
    import django
    from django.apps import apps
    from django.conf import settings

    if apps.ready:
        return
    settings.configure(
        INSTALLED_APPS=["lazycron"],
        DATABASES={"default": spec["conf"], spec["alias"]: spec["conf"]},
        USE_TZ=True,
        TIME_ZONE="UTC",
    )
    django.setup()
