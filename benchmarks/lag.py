"""Item 5: scheduling lag (start minus tick) under steady traffic.

Six cells run at the same time, each its own ``gunicorn -w 2`` with a WSGI site whose
job is due every 2 s: traffic of 1, 10 and 100 requests/s (one wrk connection with
exponential gaps, i.e. Poisson arrivals) times
``check_interval`` 30 (the default) and 0. Lateness comes from the job's own log
(``current_run().tick`` against ``time.time()`` at the job's first line).

With check_interval=30 each worker reads the state at most every 30 s, so a 2 s job runs
about once per (30 s / workers) and a cell yields only a handful of samples; lateness
there is bounded by the interval, which is the point of the setting.

    python benchmarks/lag.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import save, summary
from _servers import POISSON_LUA, Site, read_runs, serve
from throughput import WSGI

RATES = (1, 10, 100)
INTERVALS = (30, 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 20 if args.quick else 60
    if not shutil.which("wrk"):
        save("lag", {"skipped": "wrk is not installed"})
        return 0
    work = Path(tempfile.mkdtemp(prefix="lazycron-bench-lag-"))
    cells = {
        (rate, interval): Site(
            f"lag-{rate}rps-ci{interval}",
            WSGI,
            {
                "BENCH_MODE": "lazycron",
                "JOB_EVERY": "2",
                "CHECK_INTERVAL": str(interval),
                "JOB_LOG": str(work / f"lag-{rate}-{interval}.log"),
                "LAZYCRON_STATE_DIR": str(work / f"lag-{rate}-{interval}.state"),
            },
        )
        for rate in RATES
        for interval in INTERVALS
    }
    with ExitStack() as stack:
        urls = {key: stack.enter_context(serve(site, work)) for key, site in cells.items()}
        started = time.time()
        clients = []
        for (rate, interval), url in urls.items():
            script = work / f"paced-{rate}.lua"
            script.write_text(POISSON_LUA.format(delay_ms=1000 / rate))
            command = ["wrk", "-t1", "-c1", f"-d{seconds}s", "-s", str(script), url]
            clients.append(((rate, interval), subprocess.Popen(command, stdout=subprocess.PIPE)))
        rates = {}
        for key, client in clients:
            output = client.communicate(timeout=seconds + 60)[0].decode()
            rates[key] = float(output.split("Requests/sec:")[1].split()[0])
        ended = time.time()
    results: dict[str, Any] = {"seconds": seconds, "job_every": 2, "cells": {}}
    for (rate, interval), site in cells.items():
        runs = read_runs(Path(site.env["JOB_LOG"]))
        late = [start - tick for _, tick, _, start, _ in runs if started <= tick < ended]
        cell = {
            "rate": rate,
            "measured_rps": rates[rate, interval],
            "check_interval": interval,
            "lateness_s": summary(late) if late else None,
            "p90_s": sorted(late)[math.ceil(0.9 * len(late)) - 1] if late else None,
            "samples_s": sorted(late),
            "samples": len(late),
        }
        results["cells"][f"{rate}rps-ci{interval}"] = cell
        shown = (
            f"median {cell['lateness_s']['median']:.3f} s  p90 {cell['p90_s']:.3f} s  "
            f"max {cell['lateness_s']['max']:.3f} s"
            if late
            else "no runs"
        )
        print(f"{rate:4} req/s  check_interval={interval:2}  n={len(late):3}  {shown}")
    save("lag", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
