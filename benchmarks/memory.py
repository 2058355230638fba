"""Item 7: resident memory before and after 1,000,000 fast-path calls, and after 10,000 runs.

In a fresh process. The fast path is the WSGI middleware around a trivial app with
nothing due; the runs are 100 jobs due every 10 s on an injected clock, 100 checks (RSS is
also read half-way, to tell growth from a one-off).

    python benchmarks/memory.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import rss_kib, save
from fastpath import idle_scheduler, wsgi_app

import lazycron
from lazycron import Registry, Scheduler
from lazycron.testing import FakeClock
from lazycron.wsgi import LazyCronMiddleware


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    calls = 100_000 if args.quick else 1_000_000
    checks = 10 if args.quick else 100
    jobs = 100
    results: dict[str, Any] = {"calls": calls, "runs": jobs * checks}
    with tempfile.TemporaryDirectory(prefix="lazycron-bench-mem-") as tmp:
        app = LazyCronMiddleware(wsgi_app, scheduler=idle_scheduler(f"{tmp}/idle"))
        environ: dict[str, Any] = {"REQUEST_METHOD": "GET"}

        def start_response(status: str, headers: Any) -> None:
            pass

        for _ in range(1000):  # warm up allocator and caches
            app(environ, start_response)
        gc.collect()
        results["rss_before_kib"] = rss_kib()
        for _ in range(calls):
            app(environ, start_response)
        gc.collect()
        results["rss_after_calls_kib"] = rss_kib()

        clock = FakeClock()
        registry = Registry()
        ran: list[None] = []
        for i in range(jobs):
            lazycron.job(every=10, name=f"job-{i}", registry=registry)(lambda: ran.append(None))
        scheduler = Scheduler(registry, state_dir=f"{tmp}/runs", clock=clock, check_interval=0)
        scheduler.check()  # first sight
        assert scheduler.wait_idle(30)
        gc.collect()
        results["rss_before_runs_kib"] = rss_kib()
        for index in range(checks):
            if index == checks // 2:
                gc.collect()
                results["rss_half_runs_kib"] = rss_kib()
            clock.advance(10)
            scheduler.check()
            assert scheduler.wait_idle(30)
        assert len(ran) == jobs * checks, len(ran)
        ran.clear()
        gc.collect()
        results["rss_after_runs_kib"] = rss_kib()
    print(
        f"RSS {results['rss_before_kib']} KiB before, {results['rss_after_calls_kib']} KiB after "
        f"{calls:,} fast-path calls; {results['rss_before_runs_kib']} KiB before and "
        f"{results['rss_after_runs_kib']} KiB after {jobs * checks:,} runs "
        f"({results['rss_half_runs_kib']} KiB half-way)"
    )
    save("memory", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
