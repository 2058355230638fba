"""lazycron under Apache 2.4: mod_wsgi daemon mode and mod_python (prefork), as www-data.

The state directory is created by the first worker that needs it, so it belongs to
www-data and is private to it, as lazycron requires of a state directory.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.proof import check_all, check_clean_log, prove


def test_mod_wsgi_daemon_processes(shared_dir: Path) -> None:
    proof = prove("apache-mod_wsgi", shared_dir)
    check_all(proof)
    check_clean_log(proof)


def test_mod_python_prefork_children(shared_dir: Path) -> None:
    proof = prove("apache-mod_python", shared_dir)
    check_all(proof)
    check_clean_log(proof)
