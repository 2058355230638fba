"""``MIDDLEWARE = ["lazycron.middleware.LazyCronMiddleware", ...]`` names this module; the
code lives in :mod:`lazycron.django.middleware`. (The WSGI and ASGI middlewares are
:mod:`lazycron.wsgi` and :mod:`lazycron.asgi`.)"""

from .django.middleware import LazyCronMiddleware

__all__ = ["LazyCronMiddleware"]
