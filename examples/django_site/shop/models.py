from django.db import models


class Snapshot(models.Model):
    """Written by the ``shop.snapshot`` job, through the ORM, from a job thread."""

    taken_at = models.DateTimeField()
    pid = models.IntegerField()

    class Meta:
        ordering = ("-taken_at",)
