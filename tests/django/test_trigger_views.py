"""``path("lazycron/", include("lazycron.urls"))``: the trigger and health URLs in Django."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.core.checks import run_checks
from django.test import Client, override_settings

import lazycron
from lazycron import Registry, Scheduler
from lazycron.testing import FakeClock

TOKEN = "d" * 40


def declare(registry: Registry, clock: FakeClock) -> list[float]:
    seen: list[float] = []

    @lazycron.job(every=60, name="job", registry=registry)
    def record() -> None:
        seen.append(clock.time())

    return seen


@override_settings(LAZYCRON={"TOKEN": TOKEN})
def test_post_tick_runs_due_jobs_off_the_request(
    site: Callable[..., Scheduler], registry: Registry, clock: FakeClock
) -> None:
    seen = declare(registry, clock)
    scheduler = site(registry)
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert client.post("/lazycron/tick", **auth).status_code == 202  # type: ignore[arg-type]
    clock.advance(60)
    response = client.post("/lazycron/tick", **auth)  # type: ignore[arg-type]
    assert response.status_code == 202 and response.json()["started"] == ["job"]
    assert scheduler.wait_idle(10)
    assert len(seen) == 1
    assert client.post("/lazycron/tick", **auth).status_code == 429  # type: ignore[arg-type]
    assert client.post("/lazycron/tick").status_code == 403
    clock.advance(1)
    assert client.post(f"/lazycron/tick?token={TOKEN}").status_code == 202
    health = client.get("/lazycron/health", **auth)  # type: ignore[arg-type]
    assert health.status_code == 200 and json.loads(health.content)["status"] == "OK"


@override_settings(LAZYCRON={})
def test_no_token_no_urls(
    site: Callable[..., Scheduler],
    registry: Registry,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LAZYCRON_TOKEN", raising=False)
    declare(registry, clock)
    site(registry)
    assert Client().post("/lazycron/tick", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_a_short_token_fails_the_system_checks() -> None:
    with override_settings(LAZYCRON={"TOKEN": "too-short"}):
        messages = [m for m in run_checks() if m.id == "lazycron.E003"]
    assert any("TOKEN" in m.msg and "at least 32" in m.msg for m in messages)
