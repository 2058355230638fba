"""Run the demo: a real gunicorn with 4 workers, real traffic, and a table of job runs.

    make demo        (or: python examples/demo/run_demo.py [--site wsgi] [--seconds 15])

By default it serves the example Django project (examples/django_site: two apps whose
cron.py files are found automatically, one job writing through the ORM); ``--site wsgi``
serves the plain WSGI site in examples/demo/site.py instead. It prints every run (job,
tick, start, lateness, duration, worker pid), then a summary that checks the promise: one
run per tick across all workers, and every response a 200.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to send traffic")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--site", choices=["django", "wsgi"], default="django")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lazycron-demo-"))
    log, server_log = work / "runs.log", work / "gunicorn.log"
    env = {
        **os.environ,
        "DEMO_LOG": str(log),  # the WSGI site's run log
        "DEMO_VAR": str(work),  # the Django site's state, database and run log
        "LAZYCRON_STATE_DIR": str(work / "lazycron"),
        "CHECK_INTERVAL": "1",
    }
    manage = [sys.executable, "manage.py"]
    if args.site == "django":
        site_dir, app = ROOT / "examples" / "django_site", "demo.wsgi:application"
        subprocess.run([*manage, "migrate", "-v0"], cwd=site_dir, env=env, check=True)
    else:
        site_dir, app = ROOT, "examples.demo.site:application"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    print(
        f"starting gunicorn with {args.workers} workers serving the {args.site} site; "
        f"state and logs in {work}"
    )
    with open(server_log, "wb") as output:
        server = subprocess.Popen(
            [
                str(gunicorn),
                "-w",
                str(args.workers),
                "-b",
                "127.0.0.1:0",
                "--chdir",
                str(site_dir),
                app,
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = wait_for_url(server_log)
        print(
            f"serving on {url}; sending traffic for {args.seconds:.0f}s with {args.clients} clients"
        )
        latencies, statuses = drive(url, args.seconds, args.clients)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)

    runs = read_runs(log)
    print_runs(runs)
    if args.site == "django":
        print("\n$ python manage.py lazycron status")
        sys.stdout.flush()
        subprocess.run([*manage, "lazycron", "status"], cwd=site_dir, env=env, check=False)
    return summarize(runs, latencies, statuses)


def read_runs(log: Path) -> list[dict[str, Any]]:
    """The run log: one ``job tick start end pid`` line per run, tab-separated."""
    runs = []
    for line in log.read_text().splitlines() if log.exists() else []:
        job, tick, start, end, pid = line.split("\t")
        runs.append(
            {
                "job": job,
                "tick": float(tick),
                "start": float(start),
                "end": float(end),
                "pid": int(pid),
            }
        )
    return runs


def wait_for_url(server_log: Path) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", server_log.read_text())
        if match:
            return match.group(1)
        time.sleep(0.1)
    raise SystemExit(f"gunicorn did not start:\n{server_log.read_text()}")


def drive(url: str, seconds: float, clients: int) -> tuple[list[float], Counter[int]]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            with urllib.request.urlopen(url, timeout=10) as response:
                response.read()
                status = response.status
            with lock:
                latencies.append(time.perf_counter() - start)
                statuses[status] += 1
            time.sleep(0.02)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(2)  # let the last runs finish writing
    return latencies, statuses


def clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%H:%M:%S.%f")[:-3]


def print_runs(runs: list[dict[str, Any]]) -> None:
    print()
    print(f"{'JOB':<20} {'TICK':<13} {'STARTED':<13} {'LATENESS':>9} {'DURATION':>9} {'PID':>8}")
    for run in sorted(runs, key=lambda r: (r["start"], r["job"])):
        print(
            f"{run['job']:<20} {clock(run['tick']):<13} {clock(run['start']):<13} "
            f"{run['start'] - run['tick']:>8.3f}s {run['end'] - run['start']:>8.3f}s "
            f"{run['pid']:>8}"
        )


def per_job(runs: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]], int, int]]:
    """Each job's runs, by name: (job, its runs, distinct ticks, runs beyond one per tick)."""
    by_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        by_job[str(run["job"])].append(run)
    rows = []
    for job, items in sorted(by_job.items()):
        ticks = Counter(r["tick"] for r in items)
        rows.append((job, items, len(ticks), sum(count - 1 for count in ticks.values())))
    return rows


def summarize(runs: list[dict[str, Any]], latencies: list[float], statuses: Counter[int]) -> int:
    print()
    print(f"{'JOB':<20} {'RUNS':>5} {'TICKS':>6} {'DUPLICATES':>11} {'WORKERS':>8}")
    duplicates = 0
    for job, items, ticks, dup in per_job(runs):
        duplicates += dup
        print(f"{job:<20} {len(items):>5} {ticks:>6} {dup:>11} {len({r['pid'] for r in items}):>8}")
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1] if ordered else float("nan")
    print()
    print(
        f"requests: {len(latencies)}  statuses: {dict(statuses)}  "
        f"median {statistics.median(ordered) * 1000:.1f} ms  p99 {p99 * 1000:.1f} ms  "
        f"max {ordered[-1] * 1000 if ordered else float('nan'):.1f} ms"
    )
    ok = duplicates == 0 and bool(runs) and set(statuses) == {200}
    print("one run per tick, every response 200: " + ("YES" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
