"""Django's tasks framework under lazycron: which database a task backend writes to.

Declaring is framework-neutral (``@lazycron.job`` on a task, see
:mod:`lazycron.handoff`); what needs Django is knowing when lazycron's database backend
and a task backend share a database, so that a tick's claim and its task commit in one
transaction (:meth:`lazycron.django.database.DatabaseBackend.transaction_with`).
"""

from __future__ import annotations

import importlib

__all__ = ["DATABASE_TASK_BACKENDS", "task_database"]

# Task backends that keep tasks as rows of a model, by the module of their class, with the
# (module, class) of that model: django-tasks-db's DatabaseBackend, for Django 6's
# django.tasks and for the django-tasks backport alike.
DATABASE_TASK_BACKENDS = {
    "django_tasks_db.backend": ("django_tasks_db.models", "DBTaskResult"),
}


def task_database(task_backend: object) -> str | None:
    """The database alias ``task_backend`` writes its tasks to, or ``None`` when it does
    not keep them in a Django database (a broker, memory, or running them inline)."""
    model = DATABASE_TASK_BACKENDS.get(type(task_backend).__module__)
    if model is None:
        return None
    from django.db import router

    module, name = model
    alias: str = router.db_for_write(getattr(importlib.import_module(module), name))
    return alias
