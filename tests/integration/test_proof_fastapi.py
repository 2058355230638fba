"""FastAPI with ``app.add_middleware(LazyCronMiddleware, ...)`` on uvicorn (3 workers): the
same exactly-once proof as every other server, with FastAPI serving the requests."""

from __future__ import annotations

from pathlib import Path

from tests.integration.proof import check_all, check_clean_log, prove
from tests.integration.servers import APPS_DIR, App, require_module


def test_fastapi_add_middleware_on_uvicorn_workers(shared_dir: Path) -> None:
    require_module("fastapi", "pip install fastapi  (or: pip install -e '.[test]')")
    proof = prove("uvicorn", shared_dir, site=App(APPS_DIR / "fastapi_cronsite.py", "app"))
    check_all(proof)
    check_clean_log(proof)
