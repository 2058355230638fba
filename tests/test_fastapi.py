"""FastAPI and Starlette with the ASGI middleware: ``app.add_middleware``, a plain wrap and
its one trap (routes declared after it), and the lifespan passing through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

pytest.importorskip("fastapi")  # in the test extra; the core must not need it

from fastapi import FastAPI
from fastapi.testclient import TestClient

import lazycron
from lazycron import Registry, Scheduler
from lazycron.asgi import LazyCronMiddleware
from lazycron.testing import FakeClock


@pytest.fixture
def runs(registry: Registry) -> list[str]:
    seen: list[str] = []
    lazycron.job(every="1m", name="minutely", registry=registry)(lambda: seen.append("ran"))
    return seen


@pytest.fixture
def scheduler(make_scheduler) -> Scheduler:
    made: Scheduler = make_scheduler()
    return made


def with_routes(app: FastAPI) -> FastAPI:
    @app.get("/")
    async def index() -> dict[str, str]:
        return {"hello": "world"}

    return app


def serve_twice(client: TestClient, scheduler: Scheduler, clock: FakeClock) -> None:
    """A request (first sight), a minute, another request; wait for the job threads."""
    assert client.get("/").json() == {"hello": "world"}
    assert scheduler.wait_idle(10)
    clock.advance(60)
    assert client.get("/").status_code == 200
    assert scheduler.wait_idle(10)


@pytest.mark.parametrize("routes_first", [True, False])
def test_add_middleware_before_or_after_the_routes(
    scheduler: Scheduler, clock: FakeClock, runs: list[str], routes_first: bool
) -> None:
    app = FastAPI()
    if routes_first:
        with_routes(app)
    app.add_middleware(LazyCronMiddleware, scheduler=scheduler)
    if not routes_first:
        with_routes(app)
    serve_twice(TestClient(app), scheduler, clock)
    assert runs == ["ran"]


def test_add_middleware_with_scheduler_options(tmp_path, registry: Registry) -> None:
    """The documented form: the Scheduler's options as keyword arguments. Starlette builds
    the middleware (and so the scheduler) when the app first starts."""
    app = with_routes(FastAPI())
    app.add_middleware(
        LazyCronMiddleware, state_dir=tmp_path / "state", check_interval=5, registry=registry
    )
    with TestClient(app) as client:
        assert client.get("/").status_code == 200
    found = app.middleware_stack
    while found is not None and not isinstance(found, LazyCronMiddleware):
        found = getattr(found, "app", None)
    assert isinstance(found, LazyCronMiddleware)
    assert found.scheduler.backend.location == str(tmp_path / "state")
    assert found.scheduler.check_interval == 5


def test_a_plain_wrap_after_the_routes(
    scheduler: Scheduler, clock: FakeClock, runs: list[str]
) -> None:
    app = LazyCronMiddleware(with_routes(FastAPI()), scheduler=scheduler)
    serve_twice(TestClient(app), scheduler, clock)
    assert runs == ["ran"]


def test_a_route_declared_after_a_plain_wrap_raises_attribute_error(
    scheduler: Scheduler,
) -> None:
    """What the README warns about: the wrap is not a FastAPI app, so ``@app.get`` after it
    fails at import. Wrap last, or use ``app.add_middleware``."""
    app = LazyCronMiddleware(FastAPI(), scheduler=scheduler)
    with pytest.raises(AttributeError, match="'LazyCronMiddleware' object has no attribute 'get'"):
        app.get("/")  # type: ignore[attr-defined]


@pytest.mark.parametrize("install", ["add_middleware", "wrap"])
def test_the_lifespan_passes_through_and_runs_no_job(
    scheduler: Scheduler, clock: FakeClock, runs: list[str], install: str
) -> None:
    """Startup and shutdown reach the app's own lifespan, with lazycron installed either
    way; lazycron does nothing at either (a job runs only after an HTTP response)."""
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = with_routes(FastAPI(lifespan=lifespan))
    served: object = app
    if install == "add_middleware":
        app.add_middleware(LazyCronMiddleware, scheduler=scheduler)
    else:
        served = LazyCronMiddleware(app, scheduler=scheduler)
    clock.advance(3600)  # even with time passing at startup, nothing runs from a lifespan
    with TestClient(served) as client:  # type: ignore[arg-type]
        assert events == ["startup"]
        clock.advance(3600)
    assert events == ["startup", "shutdown"]
    assert scheduler.wait_idle(10)
    assert runs == []
    with TestClient(served) as client:  # type: ignore[arg-type]
        serve_twice(client, scheduler, clock)
    assert runs == ["ran"]


def test_the_readme_quickstart_is_the_example_app() -> None:
    """The README's quickstart block is examples/fastapi_app/main.py: the app
    the integration tests serve."""
    root = Path(__file__).resolve().parents[1]
    example = (root / "examples/fastapi_app/main.py").read_text()
    assert f"```python\n{example}```" in (root / "README.md").read_text()
