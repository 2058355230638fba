"""A Django site for the multi-host tests: job records in PostgreSQL (``BACKEND
"database"``), the database named by ``$MULTIHOST_DB`` (JSON, a DATABASES entry)."""

from __future__ import annotations

import json
import os

SECRET_KEY = "lazycron-multihost"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["lazycron", "tests.multihost.djsite"]
MIDDLEWARE = ["lazycron.middleware.LazyCronMiddleware"]
ROOT_URLCONF = "tests.multihost.djsite.urls"
DATABASES = {"default": json.loads(os.environ["MULTIHOST_DB"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LAZYCRON = {
    "BACKEND": "database",
    "LEASE": float(os.environ.get("LEASE", "2")),
    "CHECK_INTERVAL": 0,
    # Each host its own (unused with BACKEND set): nothing on disk is shared.
    "STATE_DIR": os.environ.get("STATE_DIR", "/nonexistent/lazycron"),
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"pid": {"format": "[lazycron pid %(process)d] %(levelname)s %(message)s"}},
    "handlers": {"err": {"class": "logging.StreamHandler", "formatter": "pid"}},
    "loggers": {"lazycron": {"handlers": ["err"], "level": "INFO"}},
}
