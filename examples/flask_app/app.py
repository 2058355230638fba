# app.py: a Flask app with a job that runs every 10 seconds (examples/flask_app/README.md)
import logging

from flask import Flask

import lazycron
from lazycron.flask import LazyCron

# Show lazycron's line for each run, and the job's own, in the server's output.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

app = Flask(__name__)
# State lives in the app's instance folder (instance/lazycron), wherever the server and
# `flask lazycron` are started from.
LazyCron(app)


@lazycron.job(every="10s")
def heartbeat():
    logging.getLogger("app").info("heartbeat: the job ran")


@app.get("/")
def index():
    return "hello from Flask\n"
