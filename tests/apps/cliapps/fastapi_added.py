"""FastAPI with app.add_middleware(): Starlette builds the middleware at the first
request, so the app object holds only the arguments."""

from fastapi import FastAPI

from lazycron.asgi import LazyCronMiddleware

from . import state_options

app = FastAPI()


@app.get("/")
def index() -> dict[str, str]:
    return {"ok": "yes"}


app.add_middleware(LazyCronMiddleware, **state_options())
