"""The exceptions lazycron raises. Every one of them is raised at declaration or
start-up time, never in the middle of a request."""

from __future__ import annotations

__all__ = ["ConfigurationError", "DuplicateJobError", "JobDefinitionError", "LazyCronError"]


class LazyCronError(Exception):
    """Base class for every error lazycron raises on purpose."""


class JobDefinitionError(LazyCronError, ValueError):
    """A job was declared with a bad schedule, time zone, option or a duplicate name.

    Raised by ``@lazycron.job`` when the decorator runs, so a mistake shows up at import
    time (or in Django's system checks), never while serving a request.
    """


class DuplicateJobError(JobDefinitionError):
    """Two different functions were declared under one job name."""


class ConfigurationError(LazyCronError, ValueError):
    """A middleware, scheduler or setting was configured with a value that cannot work."""
