"""What several test modules share: helpers only (fixtures live in the conftest files).

* ``run_check``: what an adapter does after a response, waiting for lazycron's threads;
* ``CountingBackend``: the file backend, counting its disk reads and writes;
* ``overlapping``: the ticks whose runs overlapped, from a job's own run log;
* ``Body``, ``hello_app``, ``http_scope``, ``asgi_hello``: the smallest WSGI and ASGI apps
  the middleware tests wrap;
* :mod:`tests.helpers.serving`: a real server on a port the kernel picks.

The fake clock is :class:`lazycron.testing.FakeClock`, imported from there.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lazycron import Scheduler
from lazycron.backends import FileBackend, Snapshot
from lazycron.state import JobState


def run_check(scheduler: Scheduler) -> None:
    """What an adapter does after a response, then wait for the threads to finish."""
    if scheduler.due():
        scheduler.check()
    assert scheduler.wait_idle(10)


class CountingBackend(FileBackend):
    """The file backend, counting what each operation costs in disk access."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.reads = 0
        self.writes = 0

    def read(self, job_name: str) -> Snapshot | None:
        self.reads += 1
        return super().read(job_name)

    def write(self, job_name: str, state: JobState, *, expected: int | None) -> bool:
        self.writes += 1
        return super().write(job_name, state, expected=expected)


def overlapping(rows: list[tuple[str, float, int, float]]) -> list[float]:
    """Ticks whose run started before the previous run had ended."""
    spans: dict[float, list[float]] = {}
    for _event, tick, _pid, when in rows:
        spans.setdefault(tick, []).append(when)
    ordered = sorted((times[0], times[-1], tick) for tick, times in spans.items())
    return [b[2] for a, b in itertools.pairwise(ordered) if b[0] < a[1]]


class Body:
    """A response iterable that remembers being closed."""

    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield b"hello"

    def close(self) -> None:
        self.closed = True


def hello_app(environ: dict[str, Any], start_response: Any) -> Body:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return Body()


def http_scope() -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/", "headers": []}


async def asgi_hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hel", "more_body": True})
    await send({"type": "http.response.body", "body": b"lo"})
