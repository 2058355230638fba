"""lazycron on FastCGI: flup's forking server behind lighttpd (streaming responses)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.proof import check_all, check_clean_log, prove


def test_flup_children_behind_lighttpd(shared_dir: Path) -> None:
    proof = prove("lighttpd-flup", shared_dir)
    check_all(proof)
    check_clean_log(proof)
