# main.py: a FastAPI app with a job that runs every 10 seconds (examples/fastapi_app/README.md)
import logging
from pathlib import Path

from fastapi import FastAPI

import lazycron
from lazycron.asgi import LazyCronMiddleware

# Show lazycron's line for each run, and the job's own, in the server's output.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

app = FastAPI()
# Each worker looks for due jobs at most every 5 s (the default, 30 s, suits jobs of a
# minute or more). State lives next to this file, wherever the server is started from.
app.add_middleware(
    LazyCronMiddleware,
    state_dir=Path(__file__).resolve().parent / "var" / "lazycron",
    check_interval=5,
)


@lazycron.job(every="10s")
def heartbeat():
    logging.getLogger("main").info("heartbeat: the job ran")


@app.get("/")
async def index():
    return {"hello": "from FastAPI"}
