"""The ``LAZYCRON`` setting, read lazily and validated key by key.

Read on first use and cached; the cache is dropped on Django's ``setting_changed``
signal, so ``override_settings(LAZYCRON=...)`` and ``override_settings(TIME_ZONE=...)``
work in tests. Validation returns every problem at once, so the system check
(``lazycron.E003``) can list them all; code that needs usable settings calls
:func:`get_settings`, which raises ``ImproperlyConfigured`` instead.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from .._durations import parse_check_interval
from ..backends import default_state_dir
from ..errors import ConfigurationError
from ..scheduler import DEFAULT_CHECK_INTERVAL
from ..trigger import MIN_TOKEN_LENGTH, TOKEN_ENV
from . import store

__all__ = ["KEYS", "LazyCronSettings", "get_settings", "read_settings", "state_dir_of"]

# Every accepted key, with what it must be (for messages).
KEYS = {
    "STATE_DIR": "a path (str or pathlib.Path)",
    "CHECK_INTERVAL": "seconds, a number >= 0, a timedelta or a string like '30s' or '1m'",
    "HISTORY_LIMIT": "an integer >= 1",
    "ENABLED": "True or False",
    "TOKEN": "a string of at least 32 characters (`lazycron token` prints one), or None",
    **store.KEYS,  # BACKEND, DATABASE, LEASE: where job records live (see store.py)
}


@dataclass(frozen=True)
class LazyCronSettings:
    """``settings.LAZYCRON`` with defaults applied, plus the Django settings we use."""

    state_dir: Path | None = None  # None: see state_dir_of()
    check_interval: float = DEFAULT_CHECK_INTERVAL
    history_limit: int = 50
    enabled: bool = True
    time_zone: str = "UTC"  # settings.TIME_ZONE: the zone cron expressions are read in
    backend: object = None  # None: the file backend in state_dir (see store.py)
    database: str | None = None  # the alias for BACKEND "database" ("default" if None)
    lease: float = 60.0
    token: str | None = None  # the trigger and health URLs' token (else $LAZYCRON_TOKEN)


def read_settings() -> tuple[LazyCronSettings, list[str]]:
    """The settings, and the problems found in them (empty when all is well).

    With problems, the returned settings use the defaults for the offending keys.
    """
    raw: object = getattr(django_settings, "LAZYCRON", None)
    time_zone = getattr(django_settings, "TIME_ZONE", None) or "UTC"
    if raw is None:
        return LazyCronSettings(time_zone=time_zone), []
    if not isinstance(raw, Mapping):
        return LazyCronSettings(time_zone=time_zone), [
            f"settings.LAZYCRON must be a dict, not {type(raw).__name__}"
        ]
    problems: list[str] = []
    values: dict[str, Any] = {"time_zone": time_zone}
    for key, value in raw.items():
        if key not in KEYS:
            problems.append(_unknown(key))
            continue
        error = _invalid(key, value)
        if error:
            problems.append(f"settings.LAZYCRON[{key!r}] = {value!r}: must be {error}")
        else:
            values[key.lower()] = _convert(key, value)
    if values.get("token") is None and 0 < len(os.environ.get(TOKEN_ENV, "")) < MIN_TOKEN_LENGTH:
        problems.append(
            f"${TOKEN_ENV} is shorter than {MIN_TOKEN_LENGTH} characters; "
            f"`lazycron token` prints a good one"
        )
    return LazyCronSettings(**values), problems


def _unknown(key: object) -> str:
    message = f"settings.LAZYCRON has an unknown key {key!r}"
    close = difflib.get_close_matches(str(key).upper(), KEYS, n=1, cutoff=0.5)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    return f"{message}; valid keys are {', '.join(KEYS)}"


def _invalid(key: str, value: object) -> str | None:
    """What ``value`` should have been, or ``None`` when it is fine."""
    ok: bool
    if key in store.KEYS:
        return store.invalid(key, value)
    if key == "STATE_DIR":
        ok = value is None or isinstance(value, str | os.PathLike)
    elif key == "CHECK_INTERVAL":
        ok = _check_interval(value) is not None
    elif key == "TOKEN":
        ok = value is None or (isinstance(value, str) and len(value) >= MIN_TOKEN_LENGTH)
    elif key == "HISTORY_LIMIT":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    else:  # ENABLED: a bool, not a truthy string such as "false"
        ok = isinstance(value, bool)
    return None if ok else KEYS[key]


def _convert(key: str, value: Any) -> Any:
    if key == "STATE_DIR":
        return None if value is None else Path(value)
    if key == "CHECK_INTERVAL":
        return _check_interval(value)
    if key == "LEASE":
        return float(value)
    return value


def _check_interval(value: object) -> float | None:
    """Seconds, in the forms ``every=`` takes (0 allowed); ``None`` if not a duration."""
    try:
        return parse_check_interval(value, "CHECK_INTERVAL")
    except ConfigurationError:
        return None


def state_dir_of(conf: LazyCronSettings) -> Path:
    """``STATE_DIR``, or a default that every process of the project agrees on.

    lazycron's own default is keyed by the working directory, which differs between a
    server and a crontab's ``manage.py lazycron tick`` (run from ``$HOME``). Under
    Django the project is known: key the default by the directory the settings module is
    imported from (where ``manage.py`` usually sits), whatever the working directory.
    """
    if conf.state_dir is not None:
        return conf.state_dir
    return default_state_dir(_project_root())


def _project_root() -> str | None:
    name = getattr(django_settings, "SETTINGS_MODULE", None)
    module = sys.modules.get(name) if name else None
    path = getattr(module, "__file__", None)
    if not name or not path:
        return None  # settings.configure(): no project file to key by
    root = Path(path).resolve().parent  # mysite/settings.py -> mysite/
    for _ in name.split(".")[1:]:  # one level up per package in the dotted name
        root = root.parent
    if Path(path).name == "__init__.py":  # a settings package: mysite/settings/
        root = root.parent
    return str(root)


_cached: LazyCronSettings | None = None


def get_settings() -> LazyCronSettings:
    """The validated settings; raises ``ImproperlyConfigured`` listing every problem."""
    global _cached  # noqa: PLW0603 - a one-slot cache, dropped by clear_cache()
    if _cached is None:
        conf, problems = read_settings()
        if problems:
            raise ImproperlyConfigured("lazycron: " + "; ".join(problems))
        _cached = conf
    return _cached


def clear_cache() -> None:
    global _cached  # noqa: PLW0603
    _cached = None
