"""Corrupt state files, written while a real server is under load
(docs/design.md#failures-stay-inside).

One gunicorn worker with four threads serves the test site: the "logged once" promise is
per process (each process has its own problem log), so one process makes "exactly one
line per corruption" something we can count. The job runs every second.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

import pytest

from lazycron.backends import FileBackend

from ..apps.jobsite import read_log
from ..helpers.serving import real_server
from ._tools import Load, env_for_site, gunicorn, wait_for

pytestmark = pytest.mark.integration

EVERY = 1.0


def corruptions(valid: bytes) -> dict[str, bytes]:
    good = json.loads(valid)
    return {
        "truncated": valid[: len(valid) // 2],
        "empty": b"",
        "random-bytes": os.urandom(300),
        "wrong-shape": json.dumps([good]).encode(),
        "wrong-types": json.dumps({**good, "first_seen": "yesterday", "history": {}}).encode(),
        "future-version": json.dumps({**good, "version": 2, "new_field": [1, 2]}).encode(),
    }


def test_corrupt_state_under_load(tmp_path: Path) -> None:
    env = env_for_site(tmp_path, JOB_EVERY=str(EVERY), JOB_SLEEP="0")
    log, server_log = Path(env["JOB_LOG"]), tmp_path / "server.log"
    path = FileBackend(env["LAZYCRON_STATE_DIR"]).path_for("sleeper")

    def ends() -> int:
        return sum(1 for e, *_ in read_log(str(log)) if e == "end") if log.exists() else 0

    def unreadable_lines() -> list[str]:
        return [line for line in server_log.read_text().splitlines() if "unreadable" in line]

    injected: list[tuple[str, float]] = []
    with (
        real_server(gunicorn(1, "--threads", "4"), env, server_log) as url,
        Load(url) as load,
    ):
        assert wait_for(lambda: ends() >= 1, 4 * EVERY), "the job never ran"
        kinds = corruptions(path.read_bytes())
        for kind, content in kinds.items():
            # right after a run ended (the first one, or the recovery run of the last kind)
            time.sleep(0.2)  # let the run's own record land; the next tick is ~0.8 s away
            with open(path, "wb") as out:  # a torn, in-place write: no rename, no fsync
                out.write(content)
            injected.append((kind, time.time()))
            # reported, reset, and the job back on its feet: one more run to its end
            count = len(injected)
            assert wait_for(lambda count=count: len(unreadable_lines()) >= count, 3 * EVERY)
            after = ends()
            assert wait_for(lambda after=after: ends() > after, 4 * EVERY), f"{kind}: stuck"
        time.sleep(0.5)
    assert not load.errors and len(load.statuses) > 200
    assert set(load.statuses) == {200}

    lines = unreadable_lines()
    assert len(lines) == len(kinds), "\n".join(lines)  # once per corruption, not per request
    assert all(str(path) in line for line in lines)
    assert "schema version 2" in lines[-1]

    starts = [(tick, when) for e, tick, _, when in read_log(str(log)) if e == "start"]
    ticks = [tick for tick, _ in starts]
    assert len(ticks) == len(set(ticks)), "a tick ran twice"
    for kind, at in injected:
        # treated as first seen: the first run after the corruption is for a tick at least
        # one interval after it, so there is no burst of runs to "catch up"
        first_after = min(tick for tick, when in starts if when > at)
        assert first_after >= at + EVERY - 0.05, kind
    # no storm overall: never two runs closer than the interval
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert min(gaps) >= EVERY - 1e-3
