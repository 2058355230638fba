"""Starlette, wrapped by hand after its routes: ``application`` is the middleware."""

from starlette.applications import Starlette

from lazycron.asgi import LazyCronMiddleware

from . import state_options

app = Starlette()
application = LazyCronMiddleware(app, **state_options())
