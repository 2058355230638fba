"""Run the multi-host demo: two gunicorn "hosts" sharing nothing but the local Redis.

    make demo-multihost     (or: python examples/demo/run_multihost.py [--seconds 15])

Each host is a gunicorn with 3 workers serving examples/demo/site.py from a directory of
its own, with ``LAZYCRON_BACKEND`` pointing both at Redis (127.0.0.1:6379, or
``$REDIS_URL``) under a fresh key prefix, and ``LAZYCRON_HOST`` naming it (two hosts on
one machine share a hostname; on real machines the hostname is the default). Traffic
goes to both; the demo then prints every run with the host and worker that made it,
``lazycron status`` read from Redis, and a summary that checks the promise: one run per
tick across both hosts, and every response a 200. The prefix's keys are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from run_demo import ROOT, clock, per_job, read_runs, wait_for_url

HOSTS = ("host-a", "host-b")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to send traffic")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per host")
    parser.add_argument("--clients", type=int, default=4, help="client threads per host")
    args = parser.parse_args()

    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"lazycron-demo-{uuid.uuid4().hex[:8]}"
    backend = f"{redis_url}?prefix={prefix}"
    require_redis(redis_url)
    work = Path(tempfile.mkdtemp(prefix="lazycron-demo-multihost-"))
    print(f"two hosts, {args.workers} workers each, one Redis at {redis_url} (prefix {prefix})")
    servers: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        for host in HOSTS:
            home = work / host  # its own working directory: nothing shared on disk
            home.mkdir()
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "LAZYCRON_BACKEND": backend,
                "LAZYCRON_HOST": host,
                "DEMO_LOG": str(work / f"{host}.log"),
                "CHECK_INTERVAL": "0",  # look as soon as a job may be due
            }
            log = home / "gunicorn.log"
            with open(log, "wb") as output:
                servers.append(
                    subprocess.Popen(
                        [str(Path(sys.executable).with_name("gunicorn")), "-w",
                         str(args.workers), "-b", "127.0.0.1:0", "--chdir", str(home),
                         "examples.demo.site:application"],
                        env=env, stdout=output, stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )  # fmt: skip
            urls[host] = wait_for_url(log)
        print(f"serving on {', '.join(urls.values())}; traffic for {args.seconds:.0f}s")
        statuses = drive(list(urls.values()), args.seconds, args.clients)
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(15)
    runs = [{**run, "host": host} for host in HOSTS for run in read_runs(work / f"{host}.log")]
    print_runs(runs)
    print(f"\n$ lazycron --backend '{backend}' -m examples.demo.site status")
    sys.stdout.flush()
    subprocess.run(
        [sys.executable, "-m", "lazycron", "--backend", backend, "-m", "examples.demo.site",
         "status"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )  # fmt: skip
    delete_prefix(redis_url, prefix)
    return summarize(runs, statuses)


def require_redis(url: str) -> None:
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as client:
            client.ping()
    except redis.RedisError as exc:
        raise SystemExit(f"the demo needs a Redis at {url} ({exc}); set REDIS_URL") from None


def delete_prefix(url: str, prefix: str) -> None:
    import redis

    with redis.Redis.from_url(url, socket_timeout=5) as client:
        keys = list(client.scan_iter(match=f"{{{prefix}:*"))
        if keys:
            client.delete(*keys)


def drive(urls: list[str], seconds: float, clients: int) -> Counter[int]:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(url: str) -> None:
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    response.read()
                    status = response.status
            except OSError:
                status = 0
            with lock:
                statuses[status] += 1
            time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(u,)) for u in urls for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(2)  # let the last runs finish writing
    return statuses


def print_runs(runs: list[dict[str, Any]]) -> None:
    print()
    print(
        f"{'JOB':<15} {'TICK':<13} {'STARTED':<13} {'LATENESS':>9} {'DURATION':>9} "
        f"{'HOST':<7} {'PID':>7}"
    )
    for run in sorted(runs, key=lambda r: (r["start"], r["job"])):
        print(
            f"{run['job']:<15} {clock(run['tick']):<13} {clock(run['start']):<13} "
            f"{run['start'] - run['tick']:>8.3f}s {run['end'] - run['start']:>8.3f}s "
            f"{run['host']:<7} {run['pid']:>7}"
        )


def summarize(runs: list[dict[str, Any]], statuses: Counter[int]) -> int:
    print()
    print(f"{'JOB':<15} {'RUNS':>5} {'TICKS':>6} {'DUPLICATES':>11} {'HOSTS':>6} {'WORKERS':>8}")
    duplicates = 0
    for job, items, ticks, dup in per_job(runs):
        duplicates += dup
        print(
            f"{job:<15} {len(items):>5} {ticks:>6} {dup:>11} "
            f"{len({r['host'] for r in items}):>6} {len({r['pid'] for r in items}):>8}"
        )
    print(f"\nrequests: {sum(statuses.values())}  statuses: {dict(statuses)}")
    both = {r["host"] for r in runs} == set(HOSTS)
    ok = duplicates == 0 and both and set(statuses) == {200}
    print("one run per tick across both hosts, every response 200: " + ("YES" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
