"""Real processes racing for the same ticks on each real store: exactly one winner each.

Six processes (``racer.py``) start together and claim ticks 1..N of one job, first sight
included. Every tick must be won exactly once, and the losers must really have lost
(so the race took place). On the SQL stores each racer runs inside a transaction of its
own connection, like a request with ``ATOMIC_REQUESTS``, and that transaction must still
be usable after every lost claim (on PostgreSQL a failed statement would abort it).
"""

from __future__ import annotations

import json
import time

import pytest

from . import services
from .helpers import STORES, Store

RACERS = 6
TICKS = 25
START_DELAY = 0.5  # seconds from telling the racers "go" to their common start
REAL_STORES = [name for name in STORES if name != "file"]


@pytest.mark.integration
@pytest.mark.parametrize("store_name", REAL_STORES)
def test_six_processes_one_winner_per_tick(
    store_name: str, request: pytest.FixtureRequest, job: str
) -> None:
    store: Store = request.getfixturevalue(f"{store_name}_store")
    spec = dict(store.spec)
    if spec["kind"] == "database":
        # Keep each racer's connections open between statements: a hammering loop.
        spec["conf"] = {**spec["conf"], "CONN_MAX_AGE": None}
    racers = [
        services.run_child("tests.backends.racer", spec, job, str(TICKS)) for _ in range(RACERS)
    ]
    try:
        for racer in racers:
            assert racer.stdout is not None
            line = racer.stdout.readline().strip()
            assert line == "ready", f"a racer did not start: {line!r} {racer.stderr}"
        # One start instant for all, each racer already connected: a racer that starts
        # ahead sweeps 25 ticks on Redis in a few ms, and then nothing was contested.
        start_at = time.time() + START_DELAY
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write(f"go {start_at}\n")
            racer.stdin.flush()
        results = []
        for racer in racers:
            out, err = racer.communicate(timeout=180)
            assert racer.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
                racer.wait()

    wins = sorted(tick for result in results for tick in result["wins"])
    assert wins == list(range(1, TICKS + 1)), f"ticks won twice or never: {wins}"
    # The race took place: some racer lost a claim, or found the tick held by another.
    # (On a fast store with 2 cores, a refused claim alone is not always seen.)
    contested = sum(result["lost"] + result["busy"] for result in results)
    assert contested > 0, "no claim was ever contested"
    assert all(result["usable"] for result in results), "a loser's transaction was aborted"
    store.backend().read(job)  # the record is still readable after the race
