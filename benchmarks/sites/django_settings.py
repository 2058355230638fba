"""A minimal Django project in one module: one hello view, and the scheduler under test
chosen by ``BENCH_MODE`` (bare, lazycron, pseudo_cron, poormanscron, apscheduler).

The middleware stack is the part of ``startproject``'s default that needs no database
(security, common, clickjacking), so each scheduler is compared with a plausible site.
"""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse
from django.urls import path

MODE = os.environ.get("BENCH_MODE", "bare")

DEBUG = False
SECRET_KEY = "benchmarks-only-not-secret"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", ":memory:"),
        "OPTIONS": {"timeout": 20},
    }
}
INSTALLED_APPS: list[str] = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
LOGGING_CONFIG = None

if MODE == "lazycron":
    INSTALLED_APPS.append("lazycron")
    MIDDLEWARE.append("lazycron.middleware.LazyCronMiddleware")
    LAZYCRON = {"CHECK_INTERVAL": float(os.environ.get("CHECK_INTERVAL", "30"))}
    if os.environ.get("LAZYCRON_STATE_DIR"):
        LAZYCRON["STATE_DIR"] = os.environ["LAZYCRON_STATE_DIR"]
elif MODE == "pseudo_cron":
    INSTALLED_APPS.append("pseudo_cron")
    MIDDLEWARE.append("pseudo_cron.middleware.CronMiddleware")
elif MODE == "poormanscron":
    INSTALLED_APPS.append("poormanscron")
    MIDDLEWARE.append("poormanscron.middleware.PoorMansCronMiddleware")
elif MODE not in ("bare", "apscheduler"):
    raise SystemExit(f"BENCH_MODE={MODE!r} is not a known mode")


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"Hello, world!\n", content_type="text/plain")


urlpatterns = [path("", hello)]
