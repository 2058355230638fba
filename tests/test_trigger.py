"""The trigger and health URLs: tokens, rate limit, what a tick answers, and a real
gunicorn kept on time by a pinger alone."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import sys
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import requests

import lazycron
from lazycron import Registry
from lazycron.asgi import LazyCronMiddleware as ASGIMiddleware
from lazycron.errors import ConfigurationError
from lazycron.testing import FakeClock
from lazycron.wsgi import LazyCronMiddleware as WSGIMiddleware

from .helpers.serving import real_server

TOKEN = "t" * 40
BIN = Path(sys.executable).parent


def app_404(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"the app's own 404"]


class Wsgi:
    def __init__(self, app: WSGIMiddleware) -> None:
        self.app = app

    def __call__(
        self, path: str, *, method: str = "POST", auth: str | None = None, query: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "wsgi.input": io.BytesIO(),
        }
        if auth is not None:
            environ["HTTP_AUTHORIZATION"] = auth
        seen: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            seen["status"], seen["headers"] = int(status.split(maxsplit=1)[0]), dict(headers)

        response = self.app(environ, start_response)
        body = b"".join(response)
        close = getattr(response, "close", None)
        if close:
            close()
        return seen["status"], seen["headers"], body


@pytest.fixture
def site(registry: Registry, state_dir: Path, clock: FakeClock) -> Callable[..., Wsgi]:
    def make(**options: Any) -> Wsgi:
        options.setdefault("token", TOKEN)
        app = WSGIMiddleware(
            app_404,
            registry=registry,
            state_dir=state_dir,
            clock=clock,
            check_interval=0,
            **options,
        )
        return Wsgi(app)

    return make


def declare(registry: Registry, clock: FakeClock, seen: list[float]) -> None:
    @lazycron.job(every=60, name="job", registry=registry)
    def job() -> None:
        seen.append(clock.time())


def test_the_right_token_runs_a_check_and_answers_202(
    site: Callable[..., Wsgi], registry: Registry, clock: FakeClock
) -> None:
    seen: list[float] = []
    declare(registry, clock, seen)
    call = site()
    status, _, body = call("/_lazycron/tick", auth=f"Bearer {TOKEN}")
    assert status == 202
    first = json.loads(body)
    assert first["started"] == [] and first["jobs"][0]["next_tick"] == "2026-01-05T12:01:00+00:00"
    clock.advance(60)
    status, _, body = call("/_lazycron/tick", auth=f"Bearer {TOKEN}")
    assert status == 202 and json.loads(body)["started"] == ["job"]
    assert call.app.scheduler.wait_idle(10)
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("auth", "query"),
    [
        ("Bearer " + "x" * 40, ""),  # wrong
        (None, ""),  # missing
        ("Bearer ", ""),  # empty
        (None, "token="),  # empty, in the query
        (None, "token=" + "x" * 40),  # wrong, in the query
        ("Basic " + TOKEN, ""),  # not a bearer token
    ],
)
def test_a_wrong_missing_or_empty_token_is_403_and_does_nothing(
    site: Callable[..., Wsgi], registry: Registry, clock: FakeClock, auth: str | None, query: str
) -> None:
    seen: list[float] = []
    declare(registry, clock, seen)
    call = site()
    status, _, body = call("/_lazycron/tick", auth=auth, query=query)
    assert status == 403 and b"token" in body
    assert call.app.scheduler.backend.read("job") is None  # not even a first sight


def test_the_token_in_the_query_string_is_accepted(
    site: Callable[..., Wsgi], registry: Registry, clock: FakeClock
) -> None:
    declare(registry, clock, [])
    status, _, _ = site()("/_lazycron/tick", query=f"token={TOKEN}")
    assert status == 202


def test_no_token_means_no_path(
    site: Callable[..., Wsgi], registry: Registry, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAZYCRON_TOKEN", raising=False)
    declare(registry, clock, [])
    status, _, body = site(token=None)("/_lazycron/tick", auth=f"Bearer {TOKEN}")
    assert (status, body) == (404, b"the app's own 404")


def test_the_token_from_the_environment(
    site: Callable[..., Wsgi], registry: Registry, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAZYCRON_TOKEN", "e" * 32)
    declare(registry, clock, [])
    assert site(token=None)("/_lazycron/tick", auth="Bearer " + "e" * 32)[0] == 202


@pytest.mark.parametrize("token", ["short", "", "x" * 31])
def test_a_short_token_is_refused_at_startup(site: Callable[..., Wsgi], token: str) -> None:
    with pytest.raises(ConfigurationError, match="at least 32"):
        site(token=token)


def test_a_burst_gets_429_with_retry_after(
    site: Callable[..., Wsgi], registry: Registry, clock: FakeClock
) -> None:
    declare(registry, clock, [])
    call = site()
    statuses = [call("/_lazycron/tick", auth=f"Bearer {TOKEN}")[:2] for _ in range(5)]
    assert statuses[0][0] == 202
    assert all(status == 429 and headers["Retry-After"] == "1" for status, headers in statuses[1:])
    clock.advance(1)
    assert call("/_lazycron/tick", auth=f"Bearer {TOKEN}")[0] == 202


def test_only_post_ticks(site: Callable[..., Wsgi], registry: Registry, clock: FakeClock) -> None:
    declare(registry, clock, [])
    status, headers, _ = site()("/_lazycron/tick", method="GET", auth=f"Bearer {TOKEN}")
    assert status == 405 and headers["Allow"] == "POST"


def test_health_is_status_check_behind_the_token(
    site: Callable[..., Wsgi], registry: Registry, clock: FakeClock
) -> None:
    declare(registry, clock, [])
    call = site()
    assert call("/_lazycron/health", method="GET")[0] == 403
    call("/_lazycron/tick", auth=f"Bearer {TOKEN}")  # first sight
    status, _, body = call("/_lazycron/health", method="GET", auth=f"Bearer {TOKEN}")
    assert status == 200 and json.loads(body)["status"] == "OK"
    clock.advance(3 * 3600)  # no traffic: many ticks missed
    status, _, body = call("/_lazycron/health", method="GET", query=f"token={TOKEN}")
    assert status == 503 and json.loads(body)["status"] == "CRITICAL"


def test_asgi_form(registry: Registry, state_dir: Path, clock: FakeClock) -> None:
    declare(registry, clock, [])

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"the app's own 404"})

    middleware = ASGIMiddleware(
        app, registry=registry, state_dir=state_dir, clock=clock, check_interval=0, token=TOKEN
    )

    async def call(path: str, method: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(dict(message))

        scope = {
            "type": "http",
            "path": path,
            "method": method,
            "headers": headers,
            "query_string": b"",
        }
        await middleware(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    bearer = [(b"authorization", f"Bearer {TOKEN}".encode())]
    assert asyncio.run(call("/_lazycron/tick", "POST", bearer))[0] == 202
    assert asyncio.run(call("/_lazycron/tick", "POST", []))[0] == 403
    assert asyncio.run(call("/other", "GET", []))[1] == b"the app's own 404"
    status, body = asyncio.run(call("/_lazycron/health", "GET", bearer))
    assert status == 200 and json.loads(body)["jobs"][0]["name"] == "job"


def test_cli_token_prints_a_usable_token() -> None:
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "lazycron", "token"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert len(out) >= 32 and lazycron.trigger.resolve_token(out) == out


def test_a_pinger_alone_keeps_a_2s_job_on_time_under_gunicorn(tmp_path: Path) -> None:
    """A real gunicorn and no traffic but a loop POSTing the trigger URL every second:
    every 2 s tick runs, each within about a second of its time."""
    log = tmp_path / "job.log"
    token = lazycron.trigger.new_token()
    env = {
        "JOB_LOG": str(log),
        "LAZYCRON_STATE_DIR": str(tmp_path / "state"),
        "TRIGGER_TOKEN": token,
    }
    argv = [
        str(BIN / "gunicorn"),
        "-b",
        "127.0.0.1:0",
        "-w",
        "2",
        "tests.apps.triggersite:application",
    ]
    with real_server(argv, env, tmp_path / "server.log") as url:
        started = time.time()
        answers = []
        while time.time() - started < 12:
            answer = requests.post(
                f"{url}/_lazycron/tick", headers={"Authorization": f"Bearer {token}"}, timeout=5
            )
            answers.append(answer.status_code)
            time.sleep(1)
    runs = [tuple(map(float, line.split())) for line in log.read_text().splitlines()]
    ticks = [tick for tick, _ in runs]
    assert set(answers) <= {202, 429}  # two workers: each rate-limits its own calls
    assert len(runs) >= 4, runs  # 12 s of 2 s ticks, after the first sight
    assert ticks == sorted(set(ticks))  # each tick once
    assert all(
        b - a == pytest.approx(2, abs=1e-3) for a, b in itertools.pairwise(ticks)
    )  # none missed
    lateness = [ran - tick for tick, ran in runs]
    print("lateness of each run (s):", [round(x, 3) for x in lateness])
    assert max(lateness) < 2, lateness  # each ran before its next tick was due
