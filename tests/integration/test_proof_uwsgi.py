"""lazycron on uWSGI with 4 processes: pip's 2.0.31 and Debian's 2.0.21.

Without ``enable-threads`` Debian's uWSGI turns Python threads off (pip's 2.0.31 turns
them on by itself); lazycron must then say so in the log, once per process.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.proof import (
    check_all,
    check_all_200,
    check_clean_log,
    check_no_slower_while_jobs_run,
    check_one_run_per_tick,
    prove,
)

NO_THREADS_WARNING = "uWSGI was started without --enable-threads"


def test_pip_uwsgi_enable_threads(shared_dir: Path) -> None:
    proof = prove("uwsgi", shared_dir)
    check_all(proof)
    check_clean_log(proof)


def test_debian_uwsgi_enable_threads(shared_dir: Path) -> None:
    proof = prove("uwsgi-debian", shared_dir)
    check_all(proof)
    check_clean_log(proof)
    assert NO_THREADS_WARNING not in proof.server_log


def test_pip_uwsgi_without_enable_threads_still_runs_threads(shared_dir: Path) -> None:
    """uWSGI 2.0.31 turns Python threads on by itself (uwsgi.has_threads is 1): jobs run,
    and lazycron raises no false alarm."""
    proof = prove("uwsgi-no-threads", shared_dir)
    check_all(proof)
    assert NO_THREADS_WARNING not in proof.server_log


def test_debian_uwsgi_without_enable_threads_says_so(shared_dir: Path) -> None:
    """uWSGI 2.0.21 keeps the GIL in idle workers: a job thread only moves while its worker
    serves a request, and freezes when traffic stops. lazycron warns once per process;
    a run still happens once per tick, never twice, never overlapping."""
    proof = prove("uwsgi-debian-no-threads", shared_dir, gap=0.5, burst=0.5)
    check_all_200(proof)
    warnings = proof.server_log.count(NO_THREADS_WARNING)
    assert 1 <= warnings <= proof.kind.workers, f"{warnings} no-threads warnings"
    check_one_run_per_tick(proof, coverage=0.5)
    check_no_slower_while_jobs_run(proof)
