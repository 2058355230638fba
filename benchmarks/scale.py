"""Item 6: with 10 to 10,000 registered jobs, the fast path stays constant and a check
costs in proportion to the number of *due* jobs; the state directory stays bounded.

In-process, with an injected clock (no sleeps). For each N registered jobs, k of them
(every 10 s) are due at each step and the rest (hourly) are not. Their state files are
written beforehand, as on a site that has been up for a while. We time:

* ``due()``, the fast path, with N registered;
* the first check of a process (it reads every job's state once, so it grows with N);
* ``check()`` itself (what the request side pays: start the dispatcher thread);
* ``check()`` then ``wait_idle()`` (dispatch, lock, claim, run and record k due jobs).

    python benchmarks/scale.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import timeit
from datetime import UTC
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import dir_bytes, fmt, save, summary

import lazycron
from lazycron import Registry, Scheduler
from lazycron.backends import FileBackend
from lazycron.decision import schedule_key
from lazycron.state import JobState, encode
from lazycron.testing import FakeClock


def build(n: int, k: int, state_dir: Path, clock: FakeClock) -> tuple[Scheduler, list[int]]:
    registry = Registry()
    ran: list[int] = []
    backend = FileBackend(state_dir)
    backend.prepare()
    for i in range(n):
        lazycron.job(every=10 if i < k else 3600, name=f"job-{i}", registry=registry)(
            lambda: ran.append(1)
        )
        # Pre-seeded state (first seen now, under the declared schedule, so that the first
        # check records no schedule change), written without fsync to keep set-up quick.
        job = registry.get(f"job-{i}")
        state = JobState(
            first_seen=clock.time(),
            since=clock.time(),
            schedule=job.schedule.describe(),
            schedule_key=schedule_key(job, UTC),
        )
        backend.path_for(f"job-{i}").write_bytes(encode(state))
    return Scheduler(registry, backend=backend, clock=clock, check_interval=0), ran


def cell(n: int, k: int, rounds: int) -> dict[str, Any]:
    clock = FakeClock()
    with tempfile.TemporaryDirectory(prefix="lazycron-bench-scale-") as tmp:
        scheduler, ran = build(n, k, Path(tmp), clock)
        clock.advance(0.5)
        began = time.perf_counter()
        scheduler.check()
        assert scheduler.wait_idle(120)
        first = time.perf_counter() - began
        due = timeit.Timer("due()", globals={"due": scheduler.due})
        due_ns = [due.timeit(200_000) / 200_000 * 1e9 for _ in range(5)]
        check_us, cycle_ms = [], []
        for _ in range(rounds):
            clock.advance(10)
            began = time.perf_counter()
            scheduler.check()
            check_us.append((time.perf_counter() - began) * 1e6)
            assert scheduler.wait_idle(120)
            cycle_ms.append((time.perf_counter() - began) * 1e3)
        assert len(ran) == k * rounds, f"expected {k * rounds} runs, saw {len(ran)}"
    result = {
        "n": n,
        "k": k,
        "due_ns": summary(due_ns),
        "first_check_ms": first * 1e3,
        "check_us": summary(check_us),
        "check_and_dispatch_ms": summary(cycle_ms),
    }
    print(
        f"N={n:6} k={k:3}  due() {fmt(result['due_ns'], 'ns')}  first check {first * 1e3:7.1f} ms"
        f"  check() {fmt(result['check_us'], 'us')}"
        f"  check+dispatch+runs {fmt(result['check_and_dispatch_ms'], 'ms', 1)}",
        flush=True,
    )
    return result


def history_bound(runs: int, limit: int = 50) -> dict[str, Any]:
    """One job run `runs` times: the state directory's size as history grows."""
    clock = FakeClock()
    registry = Registry()
    lazycron.job(every=10, name="often", registry=registry)(lambda: None)
    sizes = {}
    with tempfile.TemporaryDirectory(prefix="lazycron-bench-history-") as tmp:
        scheduler = Scheduler(
            registry, state_dir=tmp, clock=clock, check_interval=0, history_limit=limit
        )
        scheduler.check()  # first sight
        assert scheduler.wait_idle(10)
        marks = {10, limit, 2 * limit, runs // 2, runs}
        for index in range(1, runs + 1):
            clock.advance(10)
            scheduler.check()
            assert scheduler.wait_idle(10)
            if index in marks:
                sizes[index] = dir_bytes(Path(tmp))
        files = sorted(p.name for p in Path(tmp).iterdir())
    print(f"state directory bytes after N runs (history_limit={limit}): {sizes}; files {files}")
    return {"history_limit": limit, "bytes_after_runs": sizes, "files": len(files)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = (10, 100, 1000) if args.quick else (10, 100, 1000, 10_000)
    rounds = 3 if args.quick else 7
    cells = [cell(n, k, rounds) for n in sizes for k in (1, 10) if k <= n]
    history = history_bound(200 if args.quick else 1000)
    save("scale", {"rounds": rounds, "cells": cells, "history": history})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
