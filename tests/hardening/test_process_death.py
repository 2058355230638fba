"""Process death: a worker is SIGKILLed while it runs a job, or right after it claimed a
tick and before the job started: crashes leave a trace, never a stuck lock
(docs/design.md#crashes-leave-a-trace-never-a-stuck-lock).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from lazycron.backends import FileBackend
from lazycron.state import Run

from ..apps.jobsite import read_log
from ..helpers import run_check
from ..helpers.serving import real_server
from ._tools import ROOT, Load, env_for_site, gunicorn, os_environ_with, pid_gone, wait_for

pytestmark = pytest.mark.integration

EVERY = 3.0


def history(state_dir: Path, name: str = "sleeper") -> list[Run]:
    snapshot = FileBackend(state_dir).read(name)
    return snapshot.state.history if snapshot else []


def lock_is_free(state_dir: Path, name: str = "sleeper") -> bool:
    """Try the job's lock exactly as lazycron takes it (through the backend)."""
    lock = FileBackend(state_dir)._lock(name)
    if not lock.acquire():
        return False
    lock.release()
    return True


def lock_was_dropped(state_dir: Path, victim: int) -> bool:
    """The dead holder's lock is free, or a live worker has taken it since: a check already
    running in another worker may claim the job the moment the kernel drops the flock (with
    ``rerun_interrupted`` it then holds the lock for the whole re-run). Either way the lock
    did not outlive its holder."""
    if lock_is_free(state_dir):
        return True
    snapshot = FileBackend(state_dir).read("sleeper")
    current = snapshot.state.current if snapshot else None
    return current is not None and current.pid != victim and not pid_gone(current.pid)


def cli_status(env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "lazycron",
            "--app",
            "tests.apps.jobsite:application",
            "--json",
            "status",
        ],
        cwd=ROOT,
        env=os_environ_with(env),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    (row,) = json.loads(out)["jobs"]
    assert isinstance(row, dict)
    return row


@pytest.mark.parametrize("rerun", [False, True], ids=["wait-for-next-tick", "rerun-opt-in"])
def test_sigkill_of_the_worker_running_a_job(tmp_path: Path, rerun: bool) -> None:
    env = env_for_site(tmp_path, JOB_EVERY=str(EVERY), JOB_SLEEP="1", JOB_RERUN=str(int(rerun)))
    log, state_dir = Path(env["JOB_LOG"]), Path(env["LAZYCRON_STATE_DIR"])
    starts = lambda: [r for r in read_log(str(log)) if r[0] == "start"] if log.exists() else []  # noqa: E731
    with (
        real_server(gunicorn(3), env, tmp_path / "server.log") as url,
        Load(url) as load,
    ):
        assert wait_for(starts, 3 * EVERY), "the job never started"
        _, tick, victim, _ = starts()[0]
        load.pause()  # nobody else competes for the lock while we look at it
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        assert wait_for(lambda: pid_gone(victim), 2)
        # The kernel dropped the flock with the process: free at once, no TTL to wait out.
        assert wait_for(lambda: lock_was_dropped(state_dir, victim), 0.5), (
            "the lock outlived its holder"
        )
        assert time.monotonic() - killed_at < 1.5
        load.resume()

        # The next check anywhere records the dead run as interrupted.
        def interrupted() -> list[Run]:
            return [r for r in history(state_dir) if r.outcome == "interrupted"]

        assert wait_for(interrupted, 2 * EVERY), "the dead run was never recorded"
        (dead,) = interrupted()
        assert (dead.pid, dead.tick, dead.trigger) == (victim, tick, "schedule")
        if rerun:
            # the opt-in: the interrupted tick runs again, in a live worker, to its end
            assert wait_for(lambda: len([s for s in starts() if s[1] == tick]) == 2, EVERY)
            load.pause()
            row = cli_status(env)
            load.resume()
            assert row["last_run"]["outcome"] == "interrupted"
            assert row["running"] is None or row["running"]["trigger"] == "rerun"
        else:
            load.pause()
            row = cli_status(env)
            load.resume()
            assert row["last_run"]["outcome"] == "interrupted"
            assert row["last_run"]["pid"] == victim

        # The next tick runs on time, in some live worker, to its end.
        next_tick = tick + EVERY
        assert wait_for(
            lambda: any(e == "end" and t == next_tick for e, t, _, _ in read_log(str(log))),
            2 * EVERY,
        ), "the next tick did not run"
        # and its outcome is written (a moment after the job's own "end" line) before the
        # server stops, which would otherwise cut the worker short in between
        assert wait_for(lambda: any(r.tick == next_tick for r in history(state_dir)), EVERY)
    assert not load.errors and set(load.statuses) == {200}
    rows = read_log(str(log))
    (next_start,) = [r for r in rows if r[0] == "start" and r[1] == next_tick]
    assert next_start[3] - next_tick < 0.5, f"next tick {next_start[3] - next_tick:.2f}s late"
    assert next_start[2] != victim
    runs = [(r.tick, r.outcome, r.trigger) for r in history(state_dir)]
    expected = [(tick, "interrupted", "schedule")]
    if rerun:
        expected.append((tick, "ok", "rerun"))
        assert [r[1] for r in rows if r[0] == "start"].count(tick) == 2
    else:
        assert [r[1] for r in rows if r[0] == "start"].count(tick) == 1  # at most once per tick
    assert runs[: len(expected) + 1] == [*expected, (next_tick, "ok", "schedule")]


# A process that claims a tick and is killed before its job starts. Which hook kills it:
#   claim-write: the backend's write of the claim (state.current set) has just returned;
#   job-context: the job context is entered, the step just before the job function.
DIE_AFTER_CLAIM = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r})
    import lazycron
    from lazycron import Registry, Scheduler
    from lazycron.backends import FileBackend
    from lazycron.testing import FakeClock
    from tests.helpers import run_check

    class DieAfterClaim(FileBackend):
        def claim(self, job_name, state, *, expected):
            lease = super().claim(job_name, state, expected=expected)
            if {hook!r} == "claim-write" and lease is not None:
                os.kill(os.getpid(), signal.SIGKILL)
            return lease

    def die(job):
        os.kill(os.getpid(), signal.SIGKILL)

    registry = Registry()
    lazycron.job(every=60, name="job", registry=registry)(
        lambda: open({marker!r}, "a").write("ran\\n")
    )
    clock = FakeClock()
    clock.now = {now!r}
    scheduler = Scheduler(
        registry, backend=DieAfterClaim({state_dir!r}), clock=clock, check_interval=0,
        job_context=die if {hook!r} == "job-context" else None,
    )
    run_check(scheduler)   # first sight
    clock.advance(60)
    run_check(scheduler)   # claims the tick and dies
    print("survived")
    """
)


@pytest.mark.parametrize("rerun", [False, True], ids=["default", "rerun-opt-in"])
@pytest.mark.parametrize("hook", ["claim-write", "job-context"])
def test_death_between_claim_and_job_start(
    tmp_path: Path, make_scheduler, clock, calls, hook: str, rerun: bool
) -> None:
    marker, state_dir = tmp_path / "ran", tmp_path / "state"
    start = clock.time()
    code = DIE_AFTER_CLAIM.format(
        root=str(ROOT), hook=hook, marker=str(marker), now=start, state_dir=str(state_dir)
    )
    child = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    assert not marker.exists()  # it died before the job ran
    assert lock_is_free(state_dir, "job")
    snapshot = FileBackend(state_dir).read("job")
    assert snapshot is not None
    claimed = snapshot.state
    assert claimed.current is not None
    assert claimed.last_tick == start + 60

    seen = calls(every=60, clock=clock, rerun_interrupted=rerun)
    clock.advance(61)
    scheduler = make_scheduler()
    run_check(scheduler)
    snapshot = FileBackend(state_dir).read("job")
    assert snapshot is not None
    state = snapshot.state
    assert state.current is None
    outcomes = [(r.tick - start, r.outcome, r.trigger) for r in state.history]
    assert outcomes[0] == (60, "interrupted", "schedule")
    assert seen == ([start + 61] if rerun else [])  # re-run once, or wait for the next tick
    clock.advance(59)
    run_check(scheduler)
    assert len(seen) == (2 if rerun else 1)
    assert state_ticks(state_dir) == ([60, 60, 120] if rerun else [60, 120])


def state_ticks(state_dir: Path) -> list[float]:
    snapshot = FileBackend(state_dir).read("job")
    assert snapshot is not None
    state = snapshot.state
    first = state.first_seen
    return [r.tick - first for r in state.history]
