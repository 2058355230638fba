"""The site's one job: every 2 s, enqueue ``beat`` with its tick."""

from __future__ import annotations

import importlib
import os
from typing import Any

from django.conf import settings

import lazycron

task: Any = importlib.import_module("django_tasks" if settings.BACKPORT else "django.tasks").task


@lazycron.job(every="2s", name="beat", pass_tick=True)
@task()  # type: ignore[untyped-decorator]  # chosen at run time: Django 6 or the backport
def beat(tick: str) -> dict[str, Any]:
    """Run by the db_worker: what it returns is stored with the task's row."""
    return {"tick": tick, "worker_pid": os.getpid()}
