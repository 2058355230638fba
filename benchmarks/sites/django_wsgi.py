"""The Django benchmark site's WSGI entry point; declares the job for ``BENCH_MODE``.

BENCH_MODE=pseudo_cron gunicorn -w 2 benchmarks.sites.django_wsgi:application
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.sites.django_settings")

from django.core.wsgi import get_wsgi_application

from .jobs import EVERY, lazycron_job, work

MODE = os.environ.get("BENCH_MODE", "bare")

if MODE == "lazycron":
    import lazycron

    lazycron.job(every=EVERY, name="bench")(lazycron_job)

application = get_wsgi_application()


def pseudo_cron_job() -> None:
    work("pseudo_cron")


def apscheduler_job() -> None:
    # APScheduler's cron trigger fires on the wall-clock grid, so the tick is the start
    # rounded down to the grid (its misfire grace keeps a run within one period).
    started = time.time()
    work("apscheduler", started - started % EVERY)


if MODE == "pseudo_cron":
    from pseudo_cron.decorators import schedule_job

    schedule_job(int(EVERY))(pseudo_cron_job)
elif MODE == "apscheduler":
    # The do-it-yourself approach: a BackgroundScheduler started in every worker.
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    if EVERY < 60:
        scheduler.add_job(apscheduler_job, "cron", second=f"*/{int(EVERY)}")
    else:
        scheduler.add_job(apscheduler_job, "interval", seconds=EVERY)
    scheduler.start()
