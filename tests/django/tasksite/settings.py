"""Settings of the task site. ``LAZYCRON_TASKS_DB`` names its PostgreSQL database (one
per test, created and dropped by the test)."""

from __future__ import annotations

import importlib.util
import os

SECRET_KEY = "lazycron-tasks-site"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# Django's tasks framework: built in from Django 6, else the django-tasks backport (an app).
BACKPORT = importlib.util.find_spec("django.tasks") is None
INSTALLED_APPS = [
    *(["django_tasks"] if BACKPORT else []),
    "django_tasks_db",
    "lazycron",
    "tests.django.tasksite.apps.TaskSiteConfig",
]
MIDDLEWARE = ["lazycron.middleware.LazyCronMiddleware"]
ROOT_URLCONF = "tests.django.tasksite.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("LAZYCRON_TASKS_DB", "lazycron_tasks_unset"),
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "USER": os.environ.get("PGUSER", "postgres"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
# The task backend writes its rows to the "default" database, where lazycron keeps its job
# records (apps.py): a tick's claim and its task commit in one transaction.
TASKS: dict[str, dict[str, object]] = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if os.environ.get("LAZYCRON_TASKS_FIXED_ID"):
    # Every task gets the same id: the second enqueue fails in the database (a duplicate
    # key), inside the transaction it shares with lazycron's claim.
    TASKS["default"]["OPTIONS"] = {"id_function": "tests.django.tasksite.ids.fixed_id"}
LAZYCRON = {"CHECK_INTERVAL": 0.5}
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"lazycron": {"handlers": ["console"], "level": "INFO"}},
}
