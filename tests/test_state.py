"""A job's state (lazycron/state.py): the bounds of its encoding, so that every state
lazycron writes is one its reader accepts."""

from __future__ import annotations

from pathlib import Path

from lazycron.backends import FileBackend
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
