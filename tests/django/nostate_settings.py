"""The test settings without LAZYCRON["STATE_DIR"]: lazycron's default directory."""

from .settings import *  # noqa: F403

LAZYCRON = {"CHECK_INTERVAL": 30}
