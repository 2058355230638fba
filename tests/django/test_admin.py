"""The admin's "Scheduled jobs": list, job page with history, actions, permissions."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

import lazycron
from lazycron import Registry, Scheduler
from lazycron.testing import FakeClock

LIST = "/admin/lazycron/scheduledjob/"


def declare(registry: Registry, clock: FakeClock) -> list[float]:
    seen: list[float] = []

    @lazycron.job(every=60, name="report", registry=registry)
    def report() -> None:
        seen.append(clock.time())

    return seen


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def staff(*permissions: str) -> Client:
    user = User.objects.create_user(f"user-{User.objects.count()}", password="pw", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def no_users() -> None:
    User.objects.all().delete()


def test_the_list_shows_each_job_and_its_last_run(
    site: Callable[..., Scheduler], registry: Registry, clock: FakeClock
) -> None:
    declare(registry, clock)
    scheduler = site(registry)
    scheduler.run_now("report")
    page = staff("view_scheduledjob").get(LIST)
    assert page.status_code == 200
    text = page.content.decode()
    assert "report" in text and "every 1m" in text and "(manual)" in text and ">ok" in text
    assert "Run now" not in text  # view only: no actions


def test_the_job_page_shows_its_history(
    site: Callable[..., Scheduler], registry: Registry, clock: FakeClock
) -> None:
    declare(registry, clock)
    scheduler = site(registry)
    scheduler.run_now("report")
    scheduler.run_now("report")
    page = staff("view_scheduledjob").get(LIST + "report/")
    assert page.status_code == 200
    assert page.content.decode().count('class="lazycron-run"') == 2


def test_permissions(site: Callable[..., Scheduler], registry: Registry, clock: FakeClock) -> None:
    declare(registry, clock)
    site(registry)
    assert Client().get(LIST).status_code == 302  # to the login page
    nobody = staff()
    assert nobody.get(LIST).status_code == 403
    assert nobody.post(LIST + "report/do/pause/").status_code == 403
    viewer = staff("view_scheduledjob")
    assert viewer.post(LIST + "report/do/pause/").status_code == 403
    assert viewer.post(LIST + "report/do/run/").status_code == 403
    assert staff("change_scheduledjob").get(LIST + "report/do/run/").status_code == 405


def test_run_now_pause_and_resume(
    site: Callable[..., Scheduler], registry: Registry, clock: FakeClock
) -> None:
    seen = declare(registry, clock)
    scheduler = site(registry)
    admin = staff("view_scheduledjob", "change_scheduledjob")
    assert "Run now" in admin.get(LIST).content.decode()

    assert admin.post(LIST + "report/do/run/").status_code == 302
    wait_for(lambda: len(seen) == 1)  # the run is on a thread of its own
    scheduler.wait_idle(10)
    wait_for(lambda: "manual" in admin.get(LIST + "report/").content.decode())
    history = admin.get(LIST + "report/").content.decode()
    assert "manual" in history and 'class="lazycron-run"' in history

    assert admin.post(LIST + "report/do/pause/").status_code == 302
    state = scheduler.runner.read(registry.get("report"))
    assert state is not None and state.paused is not None
    assert state.paused.by.endswith("(admin)")
    assert "Resume" in admin.get(LIST).content.decode()
    assert admin.post(LIST + "report/do/resume/").status_code == 302
    state = scheduler.runner.read(registry.get("report"))
    assert state is not None and state.paused is None
    assert admin.post(LIST + "nope/do/pause/").status_code == 404
