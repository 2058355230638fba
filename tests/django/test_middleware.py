"""The middleware through Django's test clients, with sync and async views.

Time is a fake clock: no test sleeps. ``scheduler.wait_idle()`` joins the threads a
check started, so each assertion sees the runs that check caused.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from unittest import mock

from asgiref.sync import iscoroutinefunction
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext

import lazycron
from lazycron import Registry
from lazycron.middleware import LazyCronMiddleware
from lazycron.testing import FakeClock


def declare(registry: Registry, clock: FakeClock) -> list[float]:
    """An interval job (every 60 s) that records the fake time of each run."""
    seen: list[float] = []

    @lazycron.job(every=60, name="job", registry=registry)
    def record() -> None:
        seen.append(clock.time())

    return seen


def test_sync_view_runs_the_job_once_per_tick(site, registry, clock) -> None:
    seen = declare(registry, clock)
    scheduler = site(registry)
    client = Client()

    assert client.get("/sync/").status_code == 200  # first sight: never a run
    assert scheduler.wait_idle(10)
    assert seen == []

    clock.advance(60)
    for _ in range(5):  # five requests, one tick: one run
        assert client.get("/sync/").content == b"sync"
        assert scheduler.wait_idle(10)
    assert len(seen) == 1

    clock.advance(60)
    client.get("/sync/")
    assert scheduler.wait_idle(10)
    assert len(seen) == 2


def test_async_view_runs_the_job_once_per_tick(site, registry, clock) -> None:
    seen = declare(registry, clock)
    scheduler = site(registry)
    client = AsyncClient()

    async def get() -> bytes:
        response = await client.get("/async/")
        assert response.status_code == 200
        return response.content

    assert asyncio.run(get()) == b"async"
    assert scheduler.wait_idle(10)
    clock.advance(60)
    for _ in range(3):
        asyncio.run(get())
        assert scheduler.wait_idle(10)
    assert len(seen) == 1


def test_the_check_runs_at_close_not_in_the_view(site, registry, clock) -> None:
    declare(registry, clock)
    scheduler = site(registry)
    with mock.patch.object(scheduler, "check") as check:
        middleware = LazyCronMiddleware(lambda request: HttpResponse("body"))
        response = middleware(HttpRequest())
        assert isinstance(response, HttpResponse)
        check.assert_not_called()  # the response is not sent yet
        response.close()  # what the server does once the body is out
        check.assert_called_once_with()


def test_nothing_due_costs_no_query_no_file_read_and_no_closer(site, registry, clock) -> None:
    declare(registry, clock)
    scheduler = site(registry, check_interval=30)
    client = Client()
    client.get("/sync/")
    assert scheduler.wait_idle(10)
    clock.advance(10)  # the job is 50 s away and the throttle 20 s
    with (
        mock.patch.object(scheduler.backend, "read") as read,
        mock.patch.object(scheduler, "check") as check,
        CaptureQueriesContext(connection) as queries,
    ):
        for _ in range(10):
            response = client.get("/sync/")
        assert len(queries) == 0
    read.assert_not_called()
    check.assert_not_called()
    assert response.status_code == 200


def test_middleware_is_sync_and_async_capable() -> None:
    assert LazyCronMiddleware.sync_capable and LazyCronMiddleware.async_capable

    async def get_response(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    assert iscoroutinefunction(LazyCronMiddleware(get_response))
    assert not iscoroutinefunction(LazyCronMiddleware(lambda request: HttpResponse()))


def test_a_check_never_raises_into_the_request(site, registry, clock) -> None:
    declare(registry, clock)
    site(registry)
    # a surprise inside the check: the injected clock itself fails
    with mock.patch.object(clock, "time", side_effect=RuntimeError("boom")):
        assert Client().get("/sync/").status_code == 200


def test_the_middleware_without_the_app_refuses_to_start(tmp_path) -> None:
    # Following the README but forgetting INSTALLED_APPS: cron.py would never be imported
    # and nothing would ever run, while `manage.py check` stays clean.
    code = (
        "import django\n"
        "from django.conf import settings\n"
        "settings.configure(INSTALLED_APPS=[], ROOT_URLCONF=__name__, SECRET_KEY='x',\n"
        f"    MIDDLEWARE=['lazycron.middleware.LazyCronMiddleware'],\n"
        f"    LAZYCRON={{'STATE_DIR': {str(tmp_path)!r}}})\n"
        "urlpatterns = []\n"
        "django.setup()\n"
        "from django.core.wsgi import get_wsgi_application\n"
        "get_wsgi_application()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: lazycron:")
    assert 'add "lazycron" to INSTALLED_APPS' in last_line
