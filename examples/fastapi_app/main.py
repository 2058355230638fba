# main.py: a FastAPI app with a job that runs every 10 seconds (examples/fastapi_app/README.md)
import logging
from pathlib import Path

from fastapi import FastAPI

import lazycron
from lazycron.asgi import LazyCronMiddleware

# Show lazycron's line for each run, and the job's own, in the server's output.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

app = FastAPI()
# State lives next to this file, wherever the server and `lazycron` are started from.
app.add_middleware(
    LazyCronMiddleware, state_dir=Path(__file__).resolve().parent / "var" / "lazycron"
)


@lazycron.job(every="10s")
def heartbeat():
    logging.getLogger("main").info("heartbeat: the job ran")


@app.get("/")
async def index():
    return {"hello": "from FastAPI"}
