"""Where a Django site keeps its job records: ``LAZYCRON["BACKEND"]``, ``"DATABASE"`` and
``"LEASE"`` (the other keys are in :mod:`.conf`).

* no ``BACKEND`` (or ``None``): the file backend in ``STATE_DIR``, for one machine;
* ``"database"``: the table of the ``lazycron`` app in ``DATABASE`` (an alias of
  ``settings.DATABASES``, ``"default"`` unless set);
* ``"redis://..."`` or ``"rediss://..."``: Redis, with ``pip install 'lazycron[redis]'``;
* a backend object, made by your own code.

``LEASE`` (seconds, default 60) is how long a claim holds a job without being renewed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..backends.base import Backend
from ..backends.open import REDIS_SCHEMES, hide_password, open_backend
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .conf import LazyCronSettings

__all__ = ["KEYS", "configured_backend", "invalid"]

KEYS = {
    "BACKEND": "None, 'database', a redis:// or rediss:// URL, or a backend object",
    "DATABASE": "an alias of settings.DATABASES (a string)",
    "LEASE": "seconds, a number >= 0.01",
}


def invalid(key: str, value: object) -> str | None:
    """What ``value`` should have been for one of :data:`KEYS`, or ``None`` if it is fine.

    Only the type: whether a URL or an alias can be used is :func:`configured_backend`'s
    business (and the ``lazycron.E101`` check's)."""
    if key == "BACKEND":
        ok = value is None or isinstance(value, str) or callable(getattr(value, "claim", None))
    elif key == "DATABASE":
        ok = isinstance(value, str) and bool(value)
    else:  # LEASE
        ok = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and value >= 0.01
        )
    return None if ok else KEYS[key]


def configured_backend(conf: LazyCronSettings) -> Backend | None:
    """The backend the settings name, or ``None`` for the file backend in ``STATE_DIR``.

    Connects to nothing. Raises :class:`~lazycron.ConfigurationError` naming the problem.
    """
    spec = conf.backend
    if conf.database is not None and spec != "database":
        raise ConfigurationError(
            f"LAZYCRON['DATABASE'] = {conf.database!r} is set, but LAZYCRON['BACKEND'] is "
            f"{spec!r}: set LAZYCRON['BACKEND'] = 'database' to keep job records there"
        )
    if spec is None:
        return None
    if spec == "database":
        from .database import DatabaseBackend

        return DatabaseBackend(conf.database or "default", lease=conf.lease)
    if isinstance(spec, str):
        if not spec.lower().startswith(REDIS_SCHEMES):
            raise ConfigurationError(
                f"LAZYCRON['BACKEND'] = {hide_password(spec)!r}: must be 'database', a redis:// or "
                "rediss:// URL, or None for the file backend in STATE_DIR"
            )
        return open_backend(spec, lease=conf.lease)
    return open_backend(spec)  # type: ignore[arg-type]  # an object, checked there
