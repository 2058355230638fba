"""The WSGI middleware (lazycron/wsgi.py), driven directly with an injected clock."""

from __future__ import annotations

import lazycron
from lazycron import Scheduler
from lazycron.testing import FakeClock
from lazycron.wsgi import LazyCronMiddleware as WSGIMiddleware

from .helpers import Body, hello_app


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
