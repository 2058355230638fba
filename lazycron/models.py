"""Django finds the ``lazycron`` app's models here; they live in :mod:`lazycron.django`."""

from .django.models import JobRecord, ScheduledJob

__all__ = ["JobRecord", "ScheduledJob"]
