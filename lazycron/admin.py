"""Django's admin autodiscovery imports ``<app>.admin``; the code is in lazycron.django."""

from .django.admin import ScheduledJobAdmin

__all__ = ["ScheduledJobAdmin"]
