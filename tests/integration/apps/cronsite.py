"""The site the per-server proofs serve: a WSGI + ASGI app wrapped in lazycron, two jobs.

* ``fast`` runs every ``FAST_EVERY`` seconds (default 1) and takes ``FAST_SLEEP`` (0.05 s).
* ``slow`` runs every ``SLOW_EVERY`` seconds (default 2) and takes ``SLOW_SLEEP`` (2.5 s):
  longer than its interval, so its next tick comes due while it runs and only the lock
  keeps it from overlapping itself.

Each run appends ``start`` and ``end`` lines (``<event> <job> <tick> <pid> <time>``) to
``$JOB_LOG`` with one ``write()`` on an O_APPEND descriptor, so lines from many processes
never interleave. The tests judge lazycron by these lines, never by its own records.
``CRONSITE_JOBS=0`` declares no job at all (the baseline run); the middleware is the same.

``/nocl`` answers without a Content-Length: there waitress, uWSGI, mod_wsgi and mod_python
keep the client waiting through ``close()``, lazycron's WSGI hook, so a hook that waited
for a job would show. Loaded by each server from its path (Debian's embedded Python too),
so it imports only the standard library, lazycron and tests/apps/sitekit.py.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import lazycron
from lazycron.asgi import LazyCronMiddleware as ASGIMiddleware
from lazycron.wsgi import LazyCronMiddleware as WSGIMiddleware
from tests.apps.sitekit import Receive, Send, append_line, asgi_respond

LOG = os.environ.get("JOB_LOG", os.devnull)
# $LAZYCRON_BACKEND (a redis:// URL) shares job records between hosts (tests/multihost);
# otherwise the workers of one server share the state directory.
BACKEND = os.environ.get("LAZYCRON_BACKEND")
WHERE: dict[str, Any] = (
    {"backend": BACKEND} if BACKEND else {"state_dir": os.environ["LAZYCRON_STATE_DIR"]}
)
CHECK_INTERVAL = float(os.environ.get("CHECK_INTERVAL", "0"))
BODY = b"hello from lazycron's proof site\n"

# lazycron's INFO lines (runs, coalesced ticks, interrupted runs) and warnings go to the
# server's log, with the pid, so a failing test shows what each worker did.
_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(logging.Formatter("[lazycron pid %(process)d] %(levelname)s %(message)s"))
logging.getLogger("lazycron").addHandler(_handler)
logging.getLogger("lazycron").setLevel(logging.INFO)


def record(event: str, job: str) -> None:
    run = lazycron.current_run()
    tick = run.tick if run else -1.0
    append_line(LOG, f"{event} {job} {tick!r} {os.getpid()} {time.time()!r}\n")


def _declare(name: str, every: str, seconds: str) -> None:
    """Declare job ``name``, every ``$<NAME>_EVERY`` s, sleeping ``$<NAME>_SLEEP`` s."""
    upper = name.upper()
    pause = float(os.environ.get(f"{upper}_SLEEP", seconds))

    def work() -> None:
        record("start", name)
        time.sleep(pause)
        record("end", name)

    lazycron.job(every=float(os.environ.get(f"{upper}_EVERY", every)), name=name)(work)


if os.environ.get("CRONSITE_JOBS", "1") != "0":
    _declare("fast", every="1", seconds="0.05")
    _declare("slow", every="2", seconds="2.5")


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    headers = [("Content-Type", "text/plain")]
    if not environ.get("PATH_INFO", "").endswith("/nocl"):
        headers.append(("Content-Length", str(len(BODY))))
    start_response("200 OK", headers)
    return [BODY]


async def asgi_hello(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    without_length = scope.get("path", "").endswith("/nocl")
    await asgi_respond(scope, receive, send, BODY, length=not without_length)


application = WSGIMiddleware(hello, check_interval=CHECK_INTERVAL, **WHERE)
# mod_python's examples and flup's runner default to "app".
app = application
asgi_application = ASGIMiddleware(asgi_hello, check_interval=CHECK_INTERVAL, **WHERE)
