"""A racing host: claims ticks 1..N of one job as fast as it can, as one of many processes.

    python -m tests.backends.racer SPEC JOB TICKS

Connects, prints ``ready``, waits for ``go START_AT`` on stdin and sleeps until that
wall-clock instant (so every racer starts together, and warm). Then for each tick it reads
the record and claims the tick until somebody has it (first sight races too: every racer
starts with no record). Prints one JSON line: the ticks it won, how many claims it lost,
how often it found the tick held by another racer, and whether its caller's transaction
was still usable after every loss.

For a database store the whole loop runs inside ``transaction.atomic()`` on Django's own
connection, as a request with ``ATOMIC_REQUESTS`` would: the backend must never touch that
transaction, so a lost claim (a refused UPDATE, a duplicate INSERT) cannot abort it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

from lazycron.state import JobState, Run

from .stores import open_spec


def main(spec_json: str, job: str, ticks: str) -> None:
    spec = json.loads(spec_json)
    backend = open_spec(spec)
    # Connect (and load the store's scripts) before saying "ready": a racer's first
    # operation takes about 20 ms, long enough for a warm racer to sweep every tick alone.
    backend.read(job)
    print("ready", flush=True)
    command, start_at = sys.stdin.readline().split()
    assert command == "go"
    time.sleep(max(0.0, float(start_at) - time.time()))  # every racer starts at this instant
    wins: list[int] = []
    lost = 0
    busy = 0
    usable = True
    with caller_transaction(spec) as still_usable:
        for tick in range(1, int(ticks) + 1):
            while True:
                snapshot = backend.read(job)
                if snapshot is None:
                    if not backend.write(job, JobState(first_seen=0.0), expected=None):
                        lost += 1
                        usable = usable and still_usable()
                    continue
                if snapshot.state.last_tick is not None and snapshot.state.last_tick >= tick:
                    break
                if snapshot.lease_live:
                    busy += 1  # another racer holds this tick's lease right now
                    continue
                state = snapshot.state
                state.last_tick = float(tick)
                state.current = Run(
                    run_id=uuid.uuid4().hex, tick=float(tick), started=float(tick),
                    pid=os.getpid(), host="racer",
                )  # fmt: skip
                lease = backend.claim(job, state, expected=snapshot.version)
                if lease is None:
                    lost += 1
                    usable = usable and still_usable()
                    continue
                wins.append(tick)
                assert lease.finish(finish), "the winner's finish was rejected"
                break
    print(
        json.dumps({"pid": os.getpid(), "wins": wins, "lost": lost, "busy": busy, "usable": usable})
    )


def finish(state: JobState) -> None:
    assert state.current is not None
    run, state.current = state.current, None
    run.outcome = "ok"
    state.record(run, limit=5)


@contextlib.contextmanager
def caller_transaction(spec: dict[str, Any]) -> Iterator[Any]:
    if spec["kind"] != "database":
        yield lambda: True
        return
    from django.db import connections, transaction

    alias = spec["alias"]

    def still_usable() -> bool:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM lazycron_jobrecord")
            return cursor.fetchone() is not None

    with transaction.atomic(using=alias):
        still_usable()  # the transaction has begun and read before the race
        yield still_usable


if __name__ == "__main__":
    main(*sys.argv[1:])
