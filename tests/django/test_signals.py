"""``lazycron.signals.run_started`` / ``run_finished`` carry the job and the run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

import lazycron
from lazycron import Registry, Scheduler
from lazycron.signals import run_finished, run_started
from lazycron.testing import FakeClock


def test_signals_carry_the_job_and_the_run_and_a_receivers_error_stays_out(
    site: Callable[..., Scheduler],
    registry: Registry,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[tuple[str, str, str, str]] = []

    def started(sender: Any, job: lazycron.Job, run: Any, **kwargs: Any) -> None:
        seen.append(("started", job.name, run.trigger, run.outcome))

    def finished(sender: Any, job: lazycron.Job, run: Any, **kwargs: Any) -> None:
        seen.append(("finished", job.name, run.trigger, run.outcome))

    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    lazycron.job(every=60, name="job", registry=registry)(lambda: None)
    scheduler = site(registry)
    run_started.connect(started)
    run_finished.connect(finished)
    run_finished.connect(broken)
    caplog.set_level(logging.ERROR, logger="lazycron")
    try:
        Client().get("/sync/")  # first sight
        assert scheduler.wait_idle(10)
        clock.advance(60)
        assert Client().get("/sync/").status_code == 200
        assert scheduler.wait_idle(10)
    finally:
        run_started.disconnect(started)
        run_finished.disconnect(finished)
        run_finished.disconnect(broken)
    assert seen == [
        ("started", "job", "schedule", "running"),
        ("finished", "job", "schedule", "ok"),
    ]
    assert any("receiver" in r.getMessage() for r in caplog.records)
    state = scheduler.runner.read(registry.get("job"))
    assert state is not None and state.history[-1].outcome == "ok"
