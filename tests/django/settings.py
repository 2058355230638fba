"""Settings for tests/django. Paths come from the environment that conftest.py sets,
so each test session gets its own database and state directory."""

from __future__ import annotations

import os
from pathlib import Path

VAR = Path(os.environ.get("LAZYCRON_TEST_VAR", "/nonexistent-set-by-conftest"))

SECRET_KEY = "lazycron-tests"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",  # an app without cron.py
    "lazycron",
    "tests.django.testapp",
    *[app for app in os.environ.get("LAZYCRON_TEST_EXTRA_APPS", "").split(",") if app],
]
MIDDLEWARE = ["lazycron.middleware.LazyCronMiddleware"]
ROOT_URLCONF = "tests.django.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Europe/Berlin"  # cron expressions are read in it, unless a job names its own
LAZYCRON = {"STATE_DIR": VAR / "lazycron", "CHECK_INTERVAL": 30}
