from __future__ import annotations

from django.apps import AppConfig


class TaskSiteConfig(AppConfig):
    name = "tests.django.tasksite"
    label = "tasksite"

    def ready(self) -> None:
        # lazycron's database backend on "default", built explicitly: the site does not
        # depend on how LAZYCRON["BACKEND"] is wired into the runtime.
        from lazycron.django import runtime
        from lazycron.django.database import DatabaseBackend

        runtime.install(runtime.build_scheduler(backend=DatabaseBackend("default")))
