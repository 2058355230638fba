"""Copied into each host's own directory and served from there."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.multihost.djsite.settings"
application = get_wsgi_application()
