"""A WSGI app whose response iterable's close() sleeps, to see whether servers keep the
client waiting through close() (lazycron's WSGI hook). Standard library only.

``/cl`` answers with a Content-Length, ``/nocl`` without one; close() then sleeps
``SLOW_CLOSE_SECONDS`` (default 1). ``/ready`` closes at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

BODY = b"hello\n"


class SlowClose:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __iter__(self) -> Iterator[bytes]:
        yield BODY

    def close(self) -> None:
        time.sleep(self.seconds)


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> SlowClose:
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    headers = [("Content-Type", "text/plain")]
    if not path.endswith("/nocl"):
        headers.append(("Content-Length", str(len(BODY))))
    start_response("200 OK", headers)
    seconds = 0.0 if path.endswith("/ready") else float(os.environ.get("SLOW_CLOSE_SECONDS", "1"))
    return SlowClose(seconds)
