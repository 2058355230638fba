"""Durations as users write them: the forms ``every=`` takes, for other options too."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from .errors import ConfigurationError, JobDefinitionError
from .schedules import parse_interval

__all__ = ["Duration", "parse_check_interval"]

Duration = float | int | timedelta | str

_ZERO = re.compile(r"(?:0+(?:\.0*)?\s*[smhd]\s*)+")


def parse_check_interval(value: object, option: str = "check_interval") -> float:
    """Seconds, from a number, a ``timedelta`` or a string like ``"30s"`` or ``"1m30s"``
    (as ``every=``); unlike ``every=``, 0 is allowed. Raises ``ConfigurationError``."""
    if isinstance(value, str) and _ZERO.fullmatch(value.strip().lower()):
        return 0.0
    if isinstance(value, int | float | timedelta) and not isinstance(value, bool):
        seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
        if seconds == 0:
            return 0.0
        if math.isfinite(seconds) and seconds < 0:
            raise ConfigurationError(f"{option}={value!r} must be 0 or more")
    try:
        return parse_interval(value, option).seconds
    except JobDefinitionError as exc:
        raise ConfigurationError(f"{exc} (or 0: look whenever a job may be due)") from None
