"""Flask without lazycron: the CLI must refuse, not fall back to a guessed state."""

from flask import Flask

app = Flask(__name__)
