"""What the WSGI and ASGI middlewares share (lazycron/_adapter.py): the scheduler they
build from their keyword arguments."""

from __future__ import annotations

from pathlib import Path

from lazycron import Registry
from lazycron.asgi import LazyCronMiddleware as ASGIMiddleware
from lazycron.wsgi import LazyCronMiddleware as WSGIMiddleware

from .helpers import asgi_hello, hello_app


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
