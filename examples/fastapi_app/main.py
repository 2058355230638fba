"""A FastAPI app with a lazycron job that runs every 10 seconds.

Run it with ``uvicorn main:app --workers 2``; see README.md.
"""

import logging
from pathlib import Path

from fastapi import FastAPI

import lazycron
from lazycron.asgi import LazyCronMiddleware

# Show lazycron's INFO lines (one per run) and the job's own line in the server's output.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
log = logging.getLogger("main")

# Next to this file, so the server and the lazycron command agree wherever they start.
STATE_DIR = Path(__file__).resolve().parent / "var" / "lazycron"

app = FastAPI()
# Like any Starlette middleware; it may come before or after the routes.
app.add_middleware(LazyCronMiddleware, state_dir=STATE_DIR, check_interval=5)


@lazycron.job(every="10s")
def heartbeat():
    log.info("heartbeat: the job ran")


@app.get("/")
async def index():
    return {"hello": "from FastAPI"}
