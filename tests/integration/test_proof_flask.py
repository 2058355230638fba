"""The Flask extension (``lazycron.flask.LazyCron``) on gunicorn: the same exactly-once
proof as every other server, with the Flask app serving the requests."""

from __future__ import annotations

from pathlib import Path

from tests.integration.proof import check_all, check_clean_log, prove
from tests.integration.servers import APPS_DIR, App, require_module


def test_flask_extension_on_gunicorn_sync_workers(shared_dir: Path) -> None:
    require_module("flask", "pip install flask  (or: pip install -e '.[test]')")
    proof = prove("gunicorn-sync", shared_dir, site=App(APPS_DIR / "flask_cronsite.py", "app"))
    check_all(proof)
    check_clean_log(proof)


def test_flask_extension_on_gunicorn_preload(shared_dir: Path) -> None:
    """With --preload, LazyCron(app) builds its scheduler before the fork: nothing of it
    (lock, thread, plan) may be inherited by the workers."""
    require_module("flask", "pip install flask  (or: pip install -e '.[test]')")
    proof = prove("gunicorn-preload", shared_dir, site=App(APPS_DIR / "flask_cronsite.py", "app"))
    check_all(proof)
    check_clean_log(proof)
