"""The proof site as a FastAPI app, with lazycron added the way FastAPI users add any
middleware: ``app.add_middleware(LazyCronMiddleware, ...)``. The jobs are ``cronsite.py``'s
(imported for them, and for its job log and logging).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import cronsite  # declares the jobs "fast" and "slow" (unless CRONSITE_JOBS=0)
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, StreamingResponse

from lazycron.asgi import LazyCronMiddleware

app = FastAPI()
app.add_middleware(
    LazyCronMiddleware,
    state_dir=os.environ["LAZYCRON_STATE_DIR"],
    check_interval=float(os.environ.get("CHECK_INTERVAL", "0")),
)


@app.get("/")
async def hello() -> PlainTextResponse:
    return PlainTextResponse(cronsite.BODY)


@app.get("/nocl")
async def hello_streamed() -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:  # streamed: no Content-Length, as cronsite's /nocl
        yield cronsite.BODY

    return StreamingResponse(body(), media_type="text/plain")
