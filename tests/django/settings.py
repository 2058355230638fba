"""Settings for tests/django. Paths come from the environment that conftest.py sets,
so each test session gets its own database and state directory."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

VAR = Path(os.environ.get("LAZYCRON_TEST_VAR", "/nonexistent-set-by-conftest"))

SECRET_KEY = "lazycron-tests"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Django's tasks framework: built in from Django 6, else the django-tasks backport (an app).
TASKS_MODULE = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
INSTALLED_APPS = [
    "django.contrib.contenttypes",  # an app without cron.py
    "django.contrib.auth",  # the admin's "Scheduled jobs" (tests/django/test_admin.py)
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",  # the admin's CSS, for the browser test's screenshot
    *(["django_tasks"] if TASKS_MODULE == "django_tasks" else []),
    # The database task backend (Django >= 5.2), for the shared transaction's tests.
    *(["django_tasks_db"] if importlib.util.find_spec("django_tasks_db") else []),
    "lazycron",
    "tests.django.testapp",
    *[app for app in os.environ.get("LAZYCRON_TEST_EXTRA_APPS", "").split(",") if app],
]
MIDDLEWARE = [
    "lazycron.middleware.LazyCronMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
ROOT_URLCONF = "tests.django.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Europe/Berlin"  # cron expressions are read in it, unless a job names its own
# tests/django/test_tasks.py: tasks run inline, kept in memory, or in this database.
TASKS = {
    "default": {"BACKEND": f"{TASKS_MODULE}.backends.immediate.ImmediateBackend"},
    "dummy": {"BACKEND": f"{TASKS_MODULE}.backends.dummy.DummyBackend", "QUEUES": ["beat"]},
    **(
        {"database": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        if importlib.util.find_spec("django_tasks_db")
        else {}
    ),
}
LAZYCRON = {"STATE_DIR": VAR / "lazycron", "CHECK_INTERVAL": 30}
STATIC_URL = "static/"
