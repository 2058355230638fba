"""Found by lazycron at start-up, because "shop" is an installed app."""

import os

from demo.runlog import logged
from django.utils import timezone

import lazycron

from .models import Snapshot


@lazycron.job(every=5, name="shop.snapshot")
@logged("shop.snapshot")
def snapshot() -> None:
    """Writes a row through the ORM. lazycron closes the job thread's connection after."""
    Snapshot.objects.create(taken_at=timezone.now(), pid=os.getpid())


@lazycron.job("0 3 * * *", name="shop.nightly_cleanup")  # 03:00 Europe/Berlin (TIME_ZONE)
@logged("shop.nightly_cleanup")
def nightly_cleanup() -> None:
    cutoff = timezone.now() - timezone.timedelta(days=7)
    Snapshot.objects.filter(taken_at__lt=cutoff).delete()
