"""Exactly once across real processes: several processes check one state directory as
fast as they can, for several ticks. Judged from the job's own log."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from .apps.jobsite import read_log
from .helpers import overlapping

pytestmark = pytest.mark.integration

WORKER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from tests.apps import jobsite
    scheduler = jobsite.application.scheduler
    deadline = time.monotonic() + {seconds}
    checks = 0
    while time.monotonic() < deadline:
        # exactly what the middleware does after each response
        if scheduler.due():
            scheduler.check()
        checks += 1
    scheduler.wait_idle(10)
    print(checks)
    """
)


@pytest.mark.parametrize("processes", [4, 6])
def test_one_run_per_tick_and_no_overlap_across_processes(tmp_path: Path, processes: int) -> None:
    log = tmp_path / "jobs.log"
    env = {
        **os.environ,
        "LAZYCRON_STATE_DIR": str(tmp_path / "state"),
        "JOB_LOG": str(log),
        "JOB_EVERY": "0.5",
        "JOB_SLEEP": "0.2",  # long enough that a broken lock would show overlaps
        "CHECK_INTERVAL": "0",
    }
    root = str(Path(__file__).resolve().parent.parent)
    code = WORKER.format(root=root, seconds=4.0)
    workers = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    checks = [int(w.communicate(timeout=60)[0]) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert min(checks) > 10_000  # they really did hammer the check

    rows = read_log(str(log))
    starts = Counter(tick for event, tick, _, _ in rows if event == "start")
    ends = Counter(tick for event, tick, _, _ in rows if event == "end")
    assert starts, "the job never ran"
    assert max(starts.values()) == 1, f"a tick ran twice: {starts}"
    assert starts == ends
    # 4 s of checking at 0.5 s intervals after first sight: about 7 ticks. With 4-6
    # busy processes on a small machine a tick may be reached late enough that the next
    # one is due too; it then coalesces (correctly), so we ask for most, not all.
    assert 4 <= len(starts) <= 10  # workers start a little apart, so the window is longer
    ticks = sorted(starts)
    steps = [(b - a) / 0.5 for a, b in itertools.pairwise(ticks)]
    assert all(abs(step - round(step)) < 1e-6 and step >= 1 for step in steps), (
        f"ticks are not on the 0.5 s grid: {steps}"
    )
    assert overlapping(rows) == []
