"""A Flask app with a lazycron job that runs every 10 seconds.

Run it with ``gunicorn -w 2 app:app`` (or ``flask --app app run``); see README.md.
"""

import logging

from flask import Flask

import lazycron
from lazycron.flask import LazyCron

# Show lazycron's INFO lines (one per run) and the job's own line in the server's output.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
log = logging.getLogger("app")

app = Flask(__name__)
# Each worker looks for due jobs at most this often (the default, 30 s, is meant for jobs
# of a minute or more). State lives in the instance folder: ./instance/lazycron.
app.config["LAZYCRON_CHECK_INTERVAL"] = "5s"
LazyCron(app)


@lazycron.job(every="10s")
def heartbeat():
    log.info("heartbeat: the job ran")


@app.get("/")
def index():
    return "hello from Flask\n"
