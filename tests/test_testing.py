"""The README's "Testing your jobs" example, kept true."""

from pathlib import Path

from lazycron import Registry, Scheduler, job
from lazycron.testing import FakeClock


def test_report_runs_hourly(tmp_path: Path) -> None:
    registry, clock, runs = Registry(), FakeClock(), []
    job(every="1h", name="report", registry=registry)(lambda: runs.append(clock.time()))
    scheduler = Scheduler(registry, state_dir=tmp_path, clock=clock, check_interval=0)
    scheduler.tick()  # first sight: nothing runs
    clock.advance(3600)
    scheduler.tick()
    assert len(runs) == 1
