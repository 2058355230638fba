"""lazycron on waitress: one process, eight threads."""

from __future__ import annotations

from pathlib import Path

from tests.integration.proof import check_all, check_clean_log, prove


def test_one_process_many_threads(shared_dir: Path) -> None:
    proof = prove("waitress", shared_dir)
    check_all(proof)
    check_clean_log(proof)
