"""Importing ``<app>/cron.py`` of every installed app, from ``AppConfig.ready()``.

Two kinds of failure, handled differently on purpose:

* a **declaration error** (``@lazycron.job`` refusing a bad expression, zone, option or
  a duplicate name) is a configuration mistake of exactly the kind Django's system
  checks exist for. It is recorded, the other apps' ``cron.py`` are still imported (so
  one ``manage.py check`` lists every mistake), and it is reported as ``lazycron.E001``
  or ``lazycron.E004``. Nothing can run jobs meanwhile: building the scheduler (the
  middleware at server start-up, the management command) raises it.
* **any other exception** (a SyntaxError, a missing import, a bug at module level) is a
  bug in code: it is raised at once, wrapped in ``ImproperlyConfigured`` naming the
  module, with the original exception chained. Never swallowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule

from ..errors import DuplicateJobError, JobDefinitionError

__all__ = ["DeclarationFailure", "autodiscover", "failures", "raise_for_failures"]

MODULE = "cron"


@dataclass(frozen=True)
class DeclarationFailure:
    module: str
    error: JobDefinitionError

    @property
    def duplicate(self) -> bool:
        return isinstance(self.error, DuplicateJobError)

    def __str__(self) -> str:
        return f"{self.module}: {self.error}"


_failures: dict[str, DeclarationFailure] = {}


def autodiscover() -> list[str]:
    """Import each installed app's ``cron`` module; returns the modules imported."""
    found = []
    for app_config in apps.get_app_configs():
        # Look before importing, so that an ImportError raised *inside* a cron.py is
        # never mistaken for "this app has no cron.py".
        if not module_has_submodule(app_config.module, MODULE):
            continue
        name = f"{app_config.name}.{MODULE}"
        try:
            import_module(name)
        except JobDefinitionError as exc:
            _failures[name] = DeclarationFailure(name, exc)
            continue
        except Exception as exc:
            raise ImproperlyConfigured(
                f"lazycron: could not import {name} ({app_config.path}/{MODULE}.py): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        _failures.pop(name, None)
        found.append(name)
    return found


def failures() -> list[DeclarationFailure]:
    return list(_failures.values())


def raise_for_failures() -> None:
    if _failures:
        details = "; ".join(str(f) for f in _failures.values())
        raise ImproperlyConfigured(
            f"lazycron: jobs declared with errors, so no job runs until they are fixed "
            f"(`manage.py check` lists them): {details}"
        )
