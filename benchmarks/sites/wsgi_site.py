"""A plain WSGI hello app, bare or wrapped in lazycron (``BENCH_MODE=bare|lazycron``).

gunicorn -w 2 benchmarks.sites.wsgi_site:application
"""

from __future__ import annotations

import os
from typing import Any

from .jobs import BODY, CHECK_INTERVAL, EVERY, STATE_DIR, lazycron_job

MODE = os.environ.get("BENCH_MODE", "bare")
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", HEADERS)
    return [BODY]


application: Any = hello
if MODE == "lazycron":
    import lazycron
    from lazycron.wsgi import LazyCronMiddleware

    lazycron.job(every=EVERY, name="bench")(lazycron_job)
    application = LazyCronMiddleware(hello, state_dir=STATE_DIR, check_interval=CHECK_INTERVAL)
elif MODE != "bare":
    raise SystemExit(f"BENCH_MODE={MODE!r}: expected bare or lazycron")
