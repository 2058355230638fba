"""A site whose responses are framed by the server: a one-item list (servers add a
Content-Length for it) and the server's own ``wsgi.file_wrapper`` (servers may sendfile it).

A query string starting with ``due`` makes the check of that very request due (the
middleware decides after the app returns); ``/armed`` says whether a check is still due
(after waiting a little for one), so the test knows the check really happened. The file
records which of its methods the server called in ``$CALLS_LOG``, one line per call,
tagged with the query string: a server that sendfiles it asks for ``fileno()`` and never
calls ``read()``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

import lazycron
from lazycron.wsgi import LazyCronMiddleware

from .sitekit import append_line

BODY = b"framed by the server\n" * 200
CALLS_LOG = os.environ.get("CALLS_LOG", os.devnull)
FILE = os.environ.get("BODY_FILE", os.devnull)

registry = lazycron.Registry()
lazycron.job(every="1h", name="hourly", registry=registry)(lambda: None)


class RecordingFile:
    def __init__(self, path: str, tag: str) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by the server, via close()
        self._tag = tag

    def _record(self, method: str) -> None:
        append_line(CALLS_LOG, f"{self._tag} {method}\n")

    def read(self, size: int = -1) -> bytes:
        self._record("read")
        return self._file.read(size)

    def fileno(self) -> int:
        self._record("fileno")
        return self._file.fileno()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


def site(environ: dict[str, Any], start_response: Any) -> Any:
    path, query = environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", "")
    if query.startswith("due"):
        application.scheduler.wait_idle(5)  # a check still under way would skip this one
        application.scheduler.wake_at = -math.inf
    if path == "/armed":
        # waitress closes a file response (and so checks) once its channel is done with
        # it, which may be after the client has read the whole body
        deadline = time.monotonic() + 5
        while application.scheduler.due() and time.monotonic() < deadline:
            time.sleep(0.01)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(application.scheduler.due()).encode()]
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    if path == "/file":
        wrapper = environ["wsgi.file_wrapper"]
        return wrapper(RecordingFile(FILE, query))
    return [BODY]


application = LazyCronMiddleware(
    site, registry=registry, state_dir=os.environ.get("LAZYCRON_STATE_DIR"), check_interval=3600
)


def serve_with_wsgiref() -> None:
    """``python -m tests.apps.framingsite``: the standard library's reference server."""
    from wsgiref.simple_server import make_server

    with make_server("127.0.0.1", 0, application) as server:
        print(f"serving on http://127.0.0.1:{server.server_port}", file=sys.stderr, flush=True)
        server.serve_forever()


if __name__ == "__main__":
    serve_with_wsgiref()
