"""The proof site as a Flask app with ``lazycron.flask.LazyCron``: the jobs of
``cronsite.py`` (imported for them, and for its job log and logging), configured the
Flask way. ``$LAZYCRON_STATE_DIR`` reaches the extension as its documented fallback;
``$CHECK_INTERVAL`` goes through ``app.config``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import cronsite  # declares the jobs "fast" and "slow" (unless CRONSITE_JOBS=0)
from flask import Flask, Response

from lazycron.flask import LazyCron

app = Flask(__name__)
app.config["LAZYCRON_CHECK_INTERVAL"] = os.environ.get("CHECK_INTERVAL", "0")
LazyCron(app)


@app.get("/")
def hello() -> Response:
    return Response(cronsite.BODY, mimetype="text/plain")


@app.get("/nocl")
def hello_streamed() -> Response:
    def body() -> Iterator[bytes]:  # a generator: no Content-Length, as cronsite's /nocl
        yield cronsite.BODY

    return Response(body(), mimetype="text/plain")
