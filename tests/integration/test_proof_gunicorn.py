"""lazycron on gunicorn: sync workers, gthread, recycled workers and a preloaded app."""

from __future__ import annotations

from pathlib import Path

from tests.integration.proof import check_all, check_clean_log, prove


def test_sync_workers(shared_dir: Path) -> None:
    check_all(prove("gunicorn-sync", shared_dir))


def test_gthread_workers(shared_dir: Path) -> None:
    check_all(prove("gunicorn-gthread", shared_dir))


def test_max_requests_recycles_workers_under_load(shared_dir: Path) -> None:
    """Workers exit every 20-25 requests, killing the daemon thread of a run in flight
    (the 2.5 s job never outlives its worker here). Each such run is recorded as
    interrupted in lazycron's state, and its tick is never run again.

    Twice the usual traffic: only runs that ended count for the latency check, and here
    most runs are cut short, so 5 s gave about 27 overlapping requests against the
    check's floor of 20, and 18 once on a loaded CI box. 10 s gives about 50."""
    proof = prove("gunicorn-max-requests", shared_dir, traffic=10.0)
    check_all(proof)
    assert len({r.pid for r in proof.runs}) > proof.kind.workers, "no worker was recycled"
    assert any(proof.interrupted.values()), "no run was cut short: the proof proved nothing"


def test_preload_forks_no_lock_or_thread(shared_dir: Path) -> None:
    """The app (and its scheduler) is imported before the fork: nothing is inherited."""
    proof = prove("gunicorn-preload", shared_dir)
    check_all(proof)
    check_clean_log(proof)
