"""Flask, as the README's quickstart installs it: the WSGI app inside the Flask app."""

from flask import Flask

from lazycron.wsgi import LazyCronMiddleware

from . import state_options

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "ok"


app.wsgi_app = LazyCronMiddleware(app.wsgi_app, **state_options())  # type: ignore[method-assign]
