"""Flask with an extension that keeps the scheduler at app.extensions["lazycron"]
(the contract lazycron.flask's LazyCron follows), built here by hand."""

from types import SimpleNamespace

from flask import Flask

from lazycron import Scheduler

from . import state_options

app = Flask(__name__)
app.extensions["lazycron"] = SimpleNamespace(scheduler=Scheduler(**state_options()))
