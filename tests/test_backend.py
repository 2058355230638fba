"""The file backend: where state lives, with what permissions, and how it is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lazycron.backends import FileBackend, default_state_dir
from lazycron.state import (
    ERROR_SUMMARY_BYTES,
    HOST_BYTES,
    MAX_HISTORY_LIMIT,
    MAX_STATE_BYTES,
    JobState,
    Run,
    decode,
    encode,
    limit_text,
)


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
    assert snapshot is not None and snapshot.state == state and snapshot.version == 1
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


def test_the_largest_state_lazycron_writes_is_read_back(tmp_path: Path) -> None:
    """The bound behind MAX_HISTORY_LIMIT: a full history of the largest runs there can
    be (every free-form text at its bound, in characters that JSON escapes the most,
    every number at its longest) plus a run in progress stays under what the reader
    accepts."""
    worst_text = "\N{PILE OF POO}\x00" * 100_000
    longest_float = -1.7976931348623157e308

    def worst_run() -> Run:
        return Run(
            run_id="f" * 32,
            tick=longest_float,
            started=longest_float,
            pid=2**63,
            host=limit_text(worst_text, HOST_BYTES),
            outcome="interrupted",
            trigger="schedule",
            ended=longest_float,
            error=limit_text(worst_text, ERROR_SUMMARY_BYTES),
            skipped=2**63,
            proc_start=2**63,
        )

    state = JobState(
        first_seen=longest_float,
        last_tick=longest_float,
        current=worst_run(),
        schedule=limit_text(worst_text, 1000),
        schedule_key=limit_text(worst_text, 1000),
        since=longest_float,
    )
    for _ in range(MAX_HISTORY_LIMIT + 10):
        state.record(worst_run(), MAX_HISTORY_LIMIT)
    data = encode(state, revision=2**63)
    assert len(data) <= MAX_STATE_BYTES
    backend = FileBackend(tmp_path)
    assert backend.write("job", state, expected=None)
    snapshot = backend.read("job")
    assert snapshot is not None and len(snapshot.state.history) == MAX_HISTORY_LIMIT


def test_a_state_too_large_for_the_reader_is_trimmed_not_written(tmp_path: Path) -> None:
    """A state read from elsewhere (an older lazycron kept more) never becomes a file
    that no reader accepts: the oldest runs go first."""
    state = JobState(first_seen=1.0)
    for i in range(5000):
        run = Run(run_id=str(i), tick=float(i), started=1.0, pid=1, host="h", error="x" * 900)
        state.history.append(run)
    data = encode(state)
    assert len(data) <= MAX_STATE_BYTES
    kept = decode(data).history
    assert kept and kept[-1].run_id == "4999"
