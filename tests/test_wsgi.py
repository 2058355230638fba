"""The WSGI and ASGI middlewares, driven directly with an injected clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lazycron
from lazycron import Registry, Scheduler
from lazycron.asgi import LazyCronMiddleware as ASGIMiddleware
from lazycron.wsgi import LazyCronMiddleware as WSGIMiddleware

from .conftest import FakeClock


class Body:
    """A response iterable that remembers being closed."""

    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield b"hello"

    def close(self) -> None:
        self.closed = True


def hello_app(environ: dict[str, Any], start_response: Any) -> Body:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return Body()


@pytest.fixture
def scheduler(registry: Registry, state_dir: Path, clock: FakeClock) -> Scheduler:
    return Scheduler(registry, state_dir=state_dir, clock=clock, check_interval=0)


class TestWSGI:
    def test_fast_path_returns_the_apps_own_response(self, scheduler: Scheduler) -> None:
        scheduler.wake_at = float("inf")
        app = WSGIMiddleware(hello_app, scheduler=scheduler)
        response = app({}, lambda *a: None)
        assert isinstance(response, Body)  # not even wrapped

    def test_check_runs_after_close_not_before(
        self, scheduler: Scheduler, registry, clock: FakeClock
    ) -> None:
        seen: list[str] = []
        lazycron.job(every=10, name="job", registry=registry)(lambda: seen.append("ran"))
        app = WSGIMiddleware(hello_app, scheduler=scheduler)

        def serve() -> None:
            response = app({}, lambda *a: None)
            assert b"".join(response) == b"hello"
            getattr(response, "close", lambda: None)()
            scheduler.wait_idle()

        serve()  # first sight
        clock.advance(10)
        response = app({}, lambda *a: None)
        assert b"".join(response) == b"hello"
        scheduler.wait_idle()
        assert seen == []  # the body was sent but close() not yet called: nothing ran
        assert hasattr(response, "close")
        response.close()
        scheduler.wait_idle()
        assert seen == ["ran"]

    def test_the_apps_close_is_still_called(self, scheduler: Scheduler) -> None:
        scheduler.wake_at = float("-inf")
        inner = Body()
        app = WSGIMiddleware(lambda e, s: inner, scheduler=scheduler)
        response = app({}, lambda *a: None)
        assert response is not inner
        assert hasattr(response, "close")
        response.close()
        assert inner.closed
        scheduler.wait_idle()

    def test_a_failing_job_never_reaches_the_response(
        self, scheduler: Scheduler, registry, clock: FakeClock
    ) -> None:
        def explode() -> None:
            raise ZeroDivisionError

        lazycron.job(every=1, name="job", registry=registry)(explode)
        app = WSGIMiddleware(hello_app, scheduler=scheduler)
        for _ in range(5):
            response = app({}, lambda *a: None)
            assert b"".join(response) == b"hello"
            assert hasattr(response, "close")
            response.close()
            scheduler.wait_idle()
            clock.advance(1)


def http_scope() -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/", "headers": []}


async def asgi_hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hel", "more_body": True})
    await send({"type": "http.response.body", "body": b"lo"})


class TestASGI:
    def serve(self, app: Any, scope: dict[str, Any], on_send: Any = None) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if on_send:
                on_send(message)

        asyncio.run(app(scope, receive, send))
        return sent

    def test_check_runs_only_after_the_final_body_message(
        self, scheduler: Scheduler, registry, clock: FakeClock
    ) -> None:
        seen: list[str] = []
        lazycron.job(every=10, name="job", registry=registry)(lambda: seen.append("ran"))
        app = ASGIMiddleware(asgi_hello, scheduler=scheduler)
        self.serve(app, http_scope())
        scheduler.wait_idle()
        clock.advance(10)
        checks_before_final: list[bool] = []

        def on_send(message: dict[str, Any]) -> None:
            scheduler.wait_idle()
            checks_before_final.append(bool(seen))

        sent = self.serve(app, http_scope(), on_send)
        scheduler.wait_idle()
        assert [m["type"] for m in sent] == [
            "http.response.start",
            "http.response.body",
            "http.response.body",
        ]
        assert checks_before_final == [False, False, False]
        assert seen == ["ran"]

    def test_a_final_zero_copy_send_ends_the_response(
        self, scheduler: Scheduler, registry, clock: FakeClock
    ) -> None:
        """``http.response.zerocopysend`` (the ASGI zero-copy extension) is a body message:
        the response ends with the first one that has no ``more_body``."""
        seen: list[str] = []
        lazycron.job(every=10, name="job", registry=registry)(lambda: seen.append("ran"))

        async def send_file(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for more in (True, False):
                await send({"type": "http.response.zerocopysend", "file": 0, "more_body": more})

        app = ASGIMiddleware(send_file, scheduler=scheduler)
        self.serve(app, http_scope())  # first sight
        scheduler.wait_idle()
        clock.advance(10)
        checks_before_final: list[bool] = []

        def on_send(message: dict[str, Any]) -> None:
            scheduler.wait_idle()
            checks_before_final.append(bool(seen))

        self.serve(app, http_scope(), on_send)
        scheduler.wait_idle()
        assert checks_before_final == [False, False, False]
        assert seen == ["ran"]

    @pytest.mark.parametrize("kind", ["lifespan", "websocket"])
    def test_other_scopes_pass_straight_through(self, scheduler: Scheduler, kind: str) -> None:
        scheduler.wake_at = float("-inf")
        received: list[Any] = []

        async def inner(scope: Any, receive: Any, send: Any) -> None:
            received.append(send)

        app = ASGIMiddleware(inner, scheduler=scheduler)

        async def send(message: Any) -> None: ...

        async def receive() -> Any: ...

        asyncio.run(app({"type": kind}, receive, send))
        assert received == [send]  # the server's own send, unwrapped
        assert scheduler.wake_at == float("-inf")  # no check happened

    def test_fast_path_passes_the_servers_send(self, scheduler: Scheduler) -> None:
        scheduler.wake_at = float("inf")
        received: list[Any] = []

        async def inner(scope: Any, receive: Any, send: Any) -> None:
            received.append(send)

        async def send(message: Any) -> None: ...

        async def receive() -> Any: ...

        asyncio.run(ASGIMiddleware(inner, scheduler=scheduler)(http_scope(), receive, send))
        assert received == [send]


def test_middleware_builds_its_scheduler_from_keywords(registry: Registry, state_dir: Path) -> None:
    app = WSGIMiddleware(hello_app, state_dir=state_dir, check_interval=5, registry=registry)
    assert app.scheduler.check_interval == 5
    assert app.scheduler.backend.location == str(state_dir)
    app2 = ASGIMiddleware(asgi_hello, state_dir=state_dir, check_interval=7, registry=registry)
    assert app2.scheduler.check_interval == 7


def test_middlewares_take_check_interval_as_a_duration(registry, state_dir) -> None:
    app = WSGIMiddleware(hello_app, state_dir=state_dir, check_interval="1m", registry=registry)
    assert app.scheduler.check_interval == 60
    app2 = ASGIMiddleware(asgi_hello, state_dir=state_dir, check_interval="0s", registry=registry)
    assert app2.scheduler.check_interval == 0
