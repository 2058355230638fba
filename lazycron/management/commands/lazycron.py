"""``python manage.py lazycron``: Django finds commands by this path; the code lives in
:mod:`lazycron.django.command`."""

from ...django.command import Command

__all__ = ["Command"]
