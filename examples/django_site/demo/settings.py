"""Settings for the lazycron example site.

Everything the site writes (SQLite database, lazycron state, the demo's run log) goes to
one directory, ``var/`` here by default, or ``$DEMO_VAR`` (the tests point it elsewhere).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("DEMO_VAR", BASE_DIR / "var"))

SECRET_KEY = "lazycron-example-not-secret"
DEBUG = os.environ.get("DEMO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "lazycron",  # 1. the app: finds <app>/cron.py, adds checks and `manage.py lazycron`
    "shop",
    "pulse",
]
MIDDLEWARE = [
    "lazycron.middleware.LazyCronMiddleware",  # 2. the middleware: runs due jobs
    "django.middleware.common.CommonMiddleware",
]
LAZYCRON = {
    "STATE_DIR": VAR / "lazycron",
    # Checks at most once a second per process, so the every-2-seconds job of the demo
    # is on time. A real site keeps the default of 30 or more.
    "CHECK_INTERVAL": 1,
}

ROOT_URLCONF = "demo.urls"
WSGI_APPLICATION = "demo.wsgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR / "db.sqlite3",
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Europe/Berlin"  # cron expressions are read in it unless a job names a zone

# The demo's own log of runs (one line per run), for the table in README.md.
RUN_LOG = VAR / "runs.log"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"lazycron": {"handlers": ["console"], "level": "INFO"}},
}
