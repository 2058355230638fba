"""Found by autodiscovery: tests/django/test_discovery.py looks for these jobs."""

from __future__ import annotations

import lazycron

from .models import Note


@lazycron.job("0 3 * * *", name="testapp.nightly")
def nightly() -> None:
    Note.objects.create(text="nightly")


@lazycron.job("30 2 * * *", name="testapp.utc", timezone="UTC")
def in_utc() -> None:
    pass
