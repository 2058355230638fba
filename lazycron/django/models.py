"""The database backend's table: one row per job (see :mod:`lazycron.django.database`).

Only what the database must judge atomically has a column of its own: the version (the
compare-and-set), the last claimed tick (which never moves backwards), the lease's token
and expiry (compared with the database's clock). The job's state is stored as the bytes
:func:`lazycron.state.encode` makes, opaque to SQL.
"""

from __future__ import annotations

from typing import Any

from django.db import models

__all__ = ["JobRecord", "ScheduledJob"]


class JobRecord(models.Model):
    # The SHA-256 of the job's name: any name fits, and MySQL's case- and
    # space-insensitive collations cannot make two names one row.
    key: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    name: models.TextField[str, str] = models.TextField()  # for humans reading the table
    version: models.BigIntegerField[int, int] = models.BigIntegerField()
    last_tick: models.FloatField[float | None, float | None] = models.FloatField(null=True)
    lease_token: models.CharField[str | None, str | None] = models.CharField(
        max_length=255, null=True
    )
    lease_expires: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)
    state: models.BinaryField[Any, Any] = models.BinaryField()

    class Meta:
        app_label = "lazycron"
        db_table = "lazycron_jobrecord"
        verbose_name = "lazycron job record"

    def __str__(self) -> str:
        return str(self.name)


class ScheduledJob(models.Model):
    """A placeholder with no table (``managed = False``): it gives the admin a "Scheduled
    jobs" entry and its permissions (view: see the jobs; change: run now, pause, resume).
    The pages read the jobs from the scheduler, never from this model
    (:mod:`lazycron.django.admin`)."""

    name: models.CharField[str, str] = models.CharField(max_length=255, primary_key=True)

    class Meta:
        app_label = "lazycron"
        managed = False
        verbose_name = "scheduled job"
        verbose_name_plural = "scheduled jobs"

    def __str__(self) -> str:
        return str(self.name)
