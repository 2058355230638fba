"""The ``lazycron`` logger, and a way to report an ongoing problem once.

A broken state directory is seen by every check in every process. Logging it each time
would bury the log (and the operator) under copies, so each problem is logged once when
it starts and once when it clears.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger("lazycron")


class ProblemLog:
    """Remembers which problems are already reported, keyed by any hashable."""

    def __init__(self) -> None:
        self._active: dict[object, str] = {}
        self._lock = threading.Lock()

    def report(self, key: object, message: str, *args: object, exc_info: bool = False) -> None:
        with self._lock:
            if key in self._active:
                return
            self._active[key] = message % args if args else message
        logger.error(message, *args, exc_info=exc_info)

    def clear(self, key: object, message: str | None = None, *args: object) -> None:
        with self._lock:
            was_active = self._active.pop(key, None) is not None
        if was_active and message:
            logger.warning(message, *args)

    def active(self) -> dict[object, str]:
        with self._lock:
            return dict(self._active)

    def reset(self) -> None:
        """Forget everything; used in a forked child, where the lock may have been held
        by a thread that does not exist there, so it is replaced rather than taken."""
        self._lock = threading.Lock()
        self._active = {}
