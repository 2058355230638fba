"""The file backend (lazycron/backends/file.py): where state lives, with what permissions,
and how it is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lazycron.backends import FileBackend, default_state_dir
from lazycron.backends.file import _HAS_ON_ACQUIRED, _FileJobLock
from lazycron.state import JobState, Run, encode


def test_default_state_dir_is_per_user_and_per_application(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAZYCRON_STATE_DIR", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    app_a, app_b = tmp_path / "sites" / "shop", tmp_path / "sites" / "blog"
    app_a.mkdir(parents=True)
    app_b.mkdir(parents=True)
    monkeypatch.chdir(app_a)
    first = default_state_dir()
    monkeypatch.chdir(app_b)
    second = default_state_dir()
    assert first != second
    assert first.parent == tmp_path / "home" / ".local" / "state" / "lazycron"
    assert first.name.startswith("shop-") and second.name.startswith("blog-")
    assert not str(first).startswith("/tmp/lazycron")
    FileBackend(first).prepare()
    assert first.stat().st_mode & 0o777 == 0o700


def test_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAZYCRON_STATE_DIR", str(tmp_path / "explicit"))
    assert default_state_dir() == tmp_path / "explicit"
    monkeypatch.delenv("LAZYCRON_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_dir().parent == tmp_path / "xdg" / "lazycron"


def test_state_round_trips_and_is_written_atomically(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "state")
    backend.prepare()
    state = JobState(first_seen=1.5, last_tick=60.0, schedule="every 1m")
    state.record(
        Run(run_id="r", tick=60.0, started=61.0, pid=7, host="h", outcome="ok", ended=62.5),
        limit=10,
    )
    assert backend.write("job", state, expected=None)
    snapshot = backend.read("job")
    # a new record starts at an unpredictable version (base.py: Backend.write)
    assert snapshot is not None and snapshot.state == state and snapshot.version >= 1
    # only the final file (and the job's lock file) remain: no temp files are left behind
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == sorted(
        [backend.path_for("job").name, backend.lock_path_for("job").name]
    )
    assert backend.path_for("job").stat().st_mode & 0o777 == 0o600


def test_a_relative_state_dir_is_fixed_at_construction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    backend = FileBackend("var/cron")
    monkeypatch.chdir("/")  # daemonising servers chdir after loading the app
    assert backend.directory == tmp_path / "var" / "cron"
    assert os.path.isabs(backend.location)


def running_state(run_id: str) -> JobState:
    run = Run(run_id=run_id, tick=60.0, started=61.0, pid=os.getpid(), host="elsewhere")
    return JobState(first_seen=1.0, last_tick=60.0, current=run)


def test_a_claim_holds_the_job_until_finish_and_a_stale_finish_changes_nothing(
    tmp_path: Path,
) -> None:
    backend = FileBackend(tmp_path)
    backend.prepare()
    lease = backend.claim("job", running_state("mine"), expected=None)
    assert lease is not None and lease.token == "mine" and lease.renew_every is None
    snapshot = backend.read("job")
    assert snapshot is not None and snapshot.lease_live
    # while the lease is held nobody else can write or claim, whatever version they expect
    assert not backend.write("job", JobState(first_seen=2.0), expected=snapshot.version)
    assert backend.claim("job", running_state("rival"), expected=snapshot.version) is None
    # the record moves on under us (as after a lost lease): our finish must not land
    path = backend.path_for("job")
    path.write_bytes(encode(running_state("newer"), revision=7))
    before = path.read_bytes()
    assert lease.finish(lambda state: state.history.clear()) is False
    assert path.read_bytes() == before
    snapshot = backend.read("job")
    assert snapshot is not None and not snapshot.lease_live  # released all the same


def test_a_finish_records_the_outcome_and_frees_the_job(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path)
    backend.prepare()
    lease = backend.claim("job", running_state("mine"), expected=None)
    assert lease is not None
    claimed = backend.read("job")
    assert claimed is not None

    def record(state: JobState) -> None:
        assert state.current is not None
        run, state.current = state.current, None
        run.outcome = "ok"
        state.record(run, 10)

    assert lease.finish(record)
    snapshot = backend.read("job")
    assert snapshot is not None and snapshot.version == claimed.version + 1
    assert not snapshot.lease_live
    assert [r.outcome for r in snapshot.state.history] == ["ok"]
    assert backend.write("job", snapshot.state, expected=snapshot.version)


def test_a_lock_file_replaced_under_the_locker_makes_it_stand_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cleaner unlinks the lock file between our open and our flock, at every try: we
    never write under a lock that excludes nobody."""
    if not _HAS_ON_ACQUIRED:  # pragma: no cover - filelock < 4.3 offers no hook
        pytest.skip("this filelock cannot hand over the locked descriptor")
    backend = FileBackend(tmp_path)
    backend.prepare()
    check = _FileJobLock._check_inode

    def cleaner_first(self: _FileJobLock, fd: int) -> None:
        self.path.unlink(missing_ok=True)
        check(self, fd)

    monkeypatch.setattr(_FileJobLock, "_check_inode", cleaner_first)
    assert not backend.write("job", JobState(first_seen=1.0), expected=None)
    assert backend.read("job") is None
    # and a lock whose file disappears after it was taken knows it
    monkeypatch.setattr(_FileJobLock, "_check_inode", check)
    lock = backend._lock("job")
    assert lock.acquire() and lock.still_named()
    backend.lock_path_for("job").unlink()
    assert not lock.still_named()
    lock.release()
