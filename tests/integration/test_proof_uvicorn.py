"""lazycron's ASGI middleware on uvicorn with 3 worker processes."""

from __future__ import annotations

from pathlib import Path

from tests.integration.proof import check_all, check_clean_log, prove


def test_asgi_workers(shared_dir: Path) -> None:
    proof = prove("uvicorn", shared_dir)
    check_all(proof)
    check_clean_log(proof)


# TODO(django): once lazycron/middleware.py lands on main, serve a Django ASGI project
# (django.core.asgi.get_asgi_application() with lazycron's middleware in MIDDLEWARE) the
# same way: add a Kind for it in servers.py and a test here calling prove() + check_all().
