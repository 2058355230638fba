"""A due check must not change how a real server frames or sends the response.

On the requests where a check happens to be due, the WSGI middleware attaches the check to
the response's ``close()``. Servers decide the framing from the response object itself:
wsgiref and waitress add a Content-Length only to a one-item list (they ask ``len()``),
and gunicorn and waitress send a file by sendfile (or their own buffer) only when the
response is their ``wsgi.file_wrapper``. So the headers, the body and the calls the server
makes to the file must be the same whether a check is due or not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

from .apps.framingsite import BODY
from .helpers.serving import real_server

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
SITE = "tests.apps.framingsite:application"
SERVERS = {
    "gunicorn": [str(BIN / "gunicorn"), "-b", "127.0.0.1:0", "-w", "1", SITE],
    "waitress": [str(BIN / "waitress-serve"), "--listen=127.0.0.1:0", SITE],
    "wsgiref": [sys.executable, "-m", "tests.apps.framingsite"],
}


def headers_of(response: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower() != "date"}


@pytest.mark.parametrize("server", sorted(SERVERS))
@pytest.mark.parametrize("route", ["list", "file"])
def test_due_and_not_due_responses_are_framed_alike(
    tmp_path: Path, server: str, route: str
) -> None:
    body_file, calls = tmp_path / "body", tmp_path / "calls.log"
    body_file.write_bytes(BODY)
    env = {
        "LAZYCRON_STATE_DIR": str(tmp_path / "state"),
        "CALLS_LOG": str(calls),
        "BODY_FILE": str(body_file),
    }
    seen: dict[str, tuple[dict[str, str], list[str]]] = {}
    with real_server(SERVERS[server], env, tmp_path / "server.log") as url:
        for case in ("due", "not-due", "due-again"):
            # a fresh connection each time: the framing, not keep-alive, is compared
            response = requests.get(f"{url}/{route}?{case}", timeout=5)
            assert response.status_code == 200 and response.content == BODY
            assert requests.get(f"{url}/armed", timeout=5).text == "False", "no check ran"
            made = [
                line.split()[1]
                for line in (calls.read_text().splitlines() if calls.exists() else [])
                if line.split()[0] == case
            ]
            seen[case] = headers_of(response), sorted(set(made))
    assert seen["due"] == seen["not-due"] == seen["due-again"], seen
