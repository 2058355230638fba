"""The ASGI middleware (lazycron/asgi.py), driven directly with an injected clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import lazycron
from lazycron import Scheduler
from lazycron.asgi import LazyCronMiddleware as ASGIMiddleware
from lazycron.testing import FakeClock

from .helpers import asgi_hello, http_scope


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
