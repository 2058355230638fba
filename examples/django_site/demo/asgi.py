"""ASGI entry point: ``uvicorn demo.asgi:application --workers 2 --lifespan off``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
application = get_asgi_application()
