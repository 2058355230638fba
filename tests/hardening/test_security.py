"""Security: private files, refused unsafe directories, planted symlinks, safe file names,
nothing exposed over HTTP, and fuzzed state files and schedules."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import lazycron
from lazycron import Registry, Scheduler
from lazycron.asgi import LazyCronMiddleware as ASGIMiddleware
from lazycron.backends import FileBackend, StateUnreadableError, UnsafeStateDirError
from lazycron.runner import Runner
from lazycron.schedules import parse_interval
from lazycron.state import SCHEMA_VERSION, JobState, Run, encode
from lazycron.testing import FakeClock
from lazycron.wsgi import LazyCronMiddleware as WSGIMiddleware

from ..helpers import run_check

NOBODY = 65534


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_files_are_private_whatever_the_umask(make_scheduler, clock, calls, state_dir) -> None:
    calls(every=10, clock=clock)
    with umask(0):  # a careless service manager: nothing masked
        scheduler = make_scheduler()
        run_check(scheduler)
        clock.advance(10)
        run_check(scheduler)
    assert state_dir.stat().st_mode & 0o777 == 0o700
    files = sorted(state_dir.iterdir())
    # the job's state and lock, and the site's "last check" mark (for `lazycron why`)
    assert [p.suffix for p in files] == [".json", ".lock", ".last-check"]
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path


@pytest.mark.parametrize("unsafe", ["world-writable", "foreign-owner"])
def test_unsafe_directory_is_refused_clearly_and_logged_once(
    make_scheduler, clock, calls, state_dir, lazycron_log, unsafe: str
) -> None:
    seen = calls(every=10, clock=clock)
    scheduler = make_scheduler()
    run_check(scheduler)  # created and used while safe
    if unsafe == "world-writable":
        state_dir.chmod(0o777)
        fix, hint = (lambda: state_dir.chmod(0o700)), f"chmod 700 {state_dir}"
    else:
        os.chown(state_dir, NOBODY, NOBODY)
        fix, hint = (lambda: os.chown(state_dir, os.geteuid(), os.getegid())), "chown"
    with pytest.raises(UnsafeStateDirError) as raised:
        FileBackend(state_dir).prepare()
    assert str(state_dir) in str(raised.value) and hint in str(raised.value)
    for _ in range(60):
        clock.advance(1)
        run_check(scheduler)
    assert seen == [], "a job ran from a directory anyone could have forged"
    errors = [r.getMessage() for r in lazycron_log.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and hint in errors[0], errors
    fix()
    for _ in range(11):
        clock.advance(1)
        run_check(scheduler)
    assert seen, "jobs did not resume once the directory was fixed"


@pytest.mark.parametrize("planted", ["json", "lock", "both"])
def test_planted_symlinks_never_touch_their_target(
    make_scheduler, clock, calls, state_dir, tmp_path, lazycron_log, planted: str
) -> None:
    seen = calls(every=10, clock=clock)
    backend = FileBackend(state_dir)
    backend.prepare()
    victims = {}
    for suffix in ("json", "lock"):
        if planted in (suffix, "both"):
            victim = tmp_path / f"victim-{suffix}"
            victim.write_text("precious: must never be truncated or written\n")
            link = backend.path_for("job").with_suffix(f".{suffix}")
            link.symlink_to(victim)
            victims[victim] = (victim.read_bytes(), victim.stat().st_mtime_ns)
    scheduler = make_scheduler()
    for _ in range(35):
        run_check(scheduler)
        clock.advance(1)
    for victim, (content, mtime) in victims.items():
        assert victim.read_bytes() == content and victim.stat().st_mtime_ns == mtime
    if planted == "json":
        # the state write replaced the link itself, and the job runs
        assert not backend.path_for("job").is_symlink()
        assert len(seen) >= 2
    else:
        # filelock 4 opens the lock with O_NOFOLLOW: refused, logged once, nothing runs
        assert seen == []
        errors = [r.getMessage() for r in lazycron_log.records if r.levelno >= logging.ERROR]
        refused = [e for e in errors if "symbolic link" in e and ".lock" in e]
        assert len(refused) == 1, errors
        assert len(errors) == (2 if planted == "both" else 1)  # + the unreadable .json link


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=2, max_size=8, unique=True))
@example(["../../etc/x", "..", ".", "/", "a/b", "a_b", "a\\b", "x\x00y", ".hidden", ""])
def test_job_names_map_to_distinct_files_inside_the_directory(names: list[str]) -> None:
    directory = Path("/srv/state")
    backend = FileBackend(directory)
    paths = [backend.path_for(name) for name in names]
    assert len({p.name for p in paths}) == len(names)
    for path in paths:
        assert path.parent == directory and os.sep not in path.name and "\x00" not in path.name
        assert not path.name.startswith(".") and len(path.name.encode()) < 255


def test_no_escape_on_a_real_filesystem(registry, clock, tmp_path) -> None:
    state_dir = tmp_path / "a" / "b" / "state"
    lazycron.job(every=1, name="../../etc/x", registry=registry)(lambda: None)
    scheduler = Scheduler(registry, state_dir=state_dir, clock=clock, check_interval=0)
    for _ in range(3):
        run_check(scheduler)
        clock.advance(1)
    inside = {p.name for p in state_dir.iterdir()}
    # the job's state and lock file, beside the site's "last check" mark (for `why`)
    assert len(inside - {"lazycron.last-check"}) == 2
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        Path("a/b/state") / name for name in inside
    )


PROBES = ["/lazycron", "/status", "/lazycron/status", "/", "/__lazycron__", "/.well-known/cron"]
QUERIES = ["", "lazycron", "lazycron=status", "status=1&json=1"]


def test_nothing_is_exposed_over_wsgi(registry, clock, tmp_path) -> None:
    lazycron.job(every=1, name="secret-job", registry=registry)(lambda: None)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("404 Not Found", [("X-App", "own")])
        return [f"app:{environ['PATH_INFO']}?{environ['QUERY_STRING']}".encode()]

    site = WSGIMiddleware(app, state_dir=tmp_path, clock=clock, check_interval=0, registry=registry)
    for path in PROBES:
        for query in QUERIES:
            clock.advance(1)
            site.scheduler.wake_at = float("-inf")  # a check is due on every request
            environ = {"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "GET"}
            expected_started: list[Any] = []
            expected = b"".join(app(dict(environ), lambda *a, out=expected_started: out.append(a)))
            started: list[Any] = []
            response = site(dict(environ), lambda *a, out=started: out.append(a))
            body = b"".join(response)
            assert hasattr(response, "close")
            response.close()
            assert (started, body) == (expected_started, expected)
            assert b"secret-job" not in body
    assert site.scheduler.wait_idle(10)


def test_nothing_is_exposed_over_asgi(registry, clock, tmp_path) -> None:
    lazycron.job(every=1, name="secret-job", registry=registry)(lambda: None)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": [(b"x-app", b"own")]})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    site = ASGIMiddleware(app, state_dir=tmp_path, clock=clock, check_interval=0, registry=registry)

    async def call(target: Any, path: str, query: str) -> list[Any]:
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(dict(message))

        scope = {"type": "http", "path": path, "query_string": query.encode(), "method": "GET"}
        await target(scope, receive, send)
        return sent

    for path in PROBES:
        for query in QUERIES:
            clock.advance(1)
            site.scheduler.wake_at = float("-inf")
            assert asyncio.run(call(site, path, query)) == asyncio.run(call(app, path, query))
    assert site.scheduler.wait_idle(10)


# -- fuzzing --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=30,
)
RUN: dict[str, Any] = {
    "run_id": "r",
    "tick": 1.0,
    "started": 2.0,
    "pid": 1,
    "host": "h",
    "outcome": "ok",
    "trigger": "schedule",
    "ended": 3.0,
    "error": None,
    "skipped": 0,
}
VALID = json.loads(encode(JobState(first_seen=1.0, last_tick=2.0, history=[Run(**RUN)])))


def state_shaped() -> st.SearchStrategy[Any]:
    """A valid state with some fields (top-level or in a run) replaced by arbitrary JSON."""
    run_fields = st.dictionaries(st.sampled_from(sorted(RUN)), json_values, max_size=3)
    top_fields = st.dictionaries(
        st.sampled_from([*VALID, "current", "extra"]), json_values, max_size=3
    )
    return st.builds(
        lambda top, run, drop: {
            **{k: v for k, v in VALID.items() if k not in drop},
            "history": [{**RUN, **run}],
            "current": {**RUN, **run, "outcome": "running"},
            **top,
        },
        top_fields,
        run_fields,
        st.sets(st.sampled_from(sorted(VALID))),
    )


def read_as_lazycron_does(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        backend = FileBackend(directory)
        backend.path_for("job").write_bytes(data)
        with contextlib.suppress(StateUnreadableError):
            snapshot = backend.read("job")
            if snapshot is not None:
                state = snapshot.state  # and what the scheduler computes from it must work too
                job = lazycron.Job("job", lambda: None, parse_interval(60), None, None, False, None)
                runner = Runner(backend, FakeClock(), ZoneInfo("UTC"))
                runner.needs_attempt(job, state, 1e9)
                runner.next_due(job, state)
                encode(state)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
@example(b"[" * 100_000)
@example(b'{"version": 1, "first_seen": 1e400}')
@example(b"\xef\xbb\xbf{}")
def test_fuzz_arbitrary_bytes_in_a_state_file(data: bytes) -> None:
    read_as_lazycron_does(data)


@settings(max_examples=400, deadline=None)
@given(st.one_of(json_values, state_shaped()))
@example({**VALID, "version": SCHEMA_VERSION, "first_seen": 2**1024 - 1})
@example({**VALID, "history": [{**RUN, "pid": 2**80}]})
def test_fuzz_arbitrary_json_in_a_state_file(value: Any) -> None:
    read_as_lazycron_does(json.dumps(value).encode())


cron_fields = st.lists(
    st.text(alphabet="0123456789*/,-LW#?HRlw", min_size=1, max_size=6), min_size=1, max_size=7
).map(" ".join)


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(max_size=40), cron_fields))
@example("0 0 29 2 *")
@example("0 0 31 4 *")
@example("* * * * * 60")
@example("@reboot")
def test_fuzz_arbitrary_schedules_parse_or_raise_our_error(text: str) -> None:
    registry = Registry()
    try:
        lazycron.job(text, name="fuzz", registry=registry)(lambda: None)
    except lazycron.JobDefinitionError:
        try:  # a sixth field is seconds, and opt-in
            lazycron.job(text, seconds=True, name="fuzz", registry=registry)(lambda: None)
        except lazycron.JobDefinitionError:
            return
    # accepted: then it must also work at request time, in any zone, never raising there
    schedule = registry.get("fuzz").schedule
    for zone in ("UTC", "Europe/Berlin", "America/New_York"):
        tz = ZoneInfo(zone)
        for start in (1_767_225_600.0, 1_774_746_000.0):  # 2026-01-01, Berlin DST day
            tick = schedule.next_after(start, tz, 0.0)
            assert tick > start
            schedule.latest_due(tick + 1, start, tz, 0.0)
