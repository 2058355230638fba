"""Item 3 (second half): how many times one tick's job really runs with 4 workers.

lazycron, pseudo-cron and an APScheduler ``BackgroundScheduler`` started in every worker
(the do-it-yourself approach), each under ``gunicorn -w 4`` with a job due every 2 s that
sleeps 0.5 s, driven by paced wrk traffic. Runs are counted from the job's own log.
lazycron and APScheduler (cron trigger on the wall-clock grid) have ticks; pseudo-cron
has none, so its runs are grouped into slots (a run starting within half a period of the
first run of a slot belongs to it). Also records whether django-poormanscron imports.

    python benchmarks/peers.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PEERS_VENV, ROOT, save
from _servers import Site, read_runs, serve, wrk
from throughput import DJANGO, WSGI, django_lazycron_available

PEERS_PY = PEERS_VENV / "bin" / "python"
EVERY = 2.0


def slots(starts: list[float], period: float) -> list[int]:
    """Group run start times into slots; runs per slot."""
    counts: list[int] = []
    first = -float("inf")
    for start in sorted(starts):
        if start - first >= period / 2:
            counts.append(0)
            first = start
        counts[-1] += 1
    return counts


def duplicates(site: Site, seconds: float, work: Path) -> dict[str, Any]:
    if site.env["BENCH_MODE"] == "pseudo_cron":
        subprocess.run(
            [str(site.python), "-m", "django", "migrate", "-v0"],
            env={
                **os.environ,
                **site.env,
                "DJANGO_SETTINGS_MODULE": "benchmarks.sites.django_settings",
            },
            cwd=ROOT,
            check=True,
        )
    with serve(site, work) as url:
        traffic = wrk(url, seconds, threads=1, connections=4, delay_ms=20)
    runs = read_runs(Path(site.env["JOB_LOG"]))
    window = [r for r in runs if traffic["start"] <= r[3] < traffic["end"]]
    if site.env["BENCH_MODE"] == "pseudo_cron":
        per_tick = slots([r[3] for r in window], EVERY)
    else:
        per_tick = list(Counter(round(r[1], 3) for r in window).values())
    result = {
        "workers": site.workers,
        "seconds": seconds,
        "requests": traffic["requests"],
        "errors": traffic["non2xx"] + traffic["socket_errors"],
        "runs": len(window),
        "ticks": len(per_tick),
        "expected_ticks": round(seconds / EVERY),
        "runs_per_tick_mean": statistics.mean(per_tick) if per_tick else 0.0,
        "runs_per_tick_max": max(per_tick, default=0),
        "pids": len({r[2] for r in window}),
    }
    print(
        f"{site.name:22} {result['runs']:3} runs for {result['ticks']:2} ticks "
        f"(mean {result['runs_per_tick_mean']:.2f}, max {result['runs_per_tick_max']} per tick) "
        f"from {result['pids']} worker(s); {result['errors']} request errors",
        flush=True,
    )
    return result


def poormanscron_status() -> str:
    """Try django-poormanscron on the current Django; the exact error if it fails."""
    if not PEERS_PY.exists():
        return "not tried: no peers venv"
    env = {
        **os.environ,
        "BENCH_MODE": "poormanscron",
        "DJANGO_SETTINGS_MODULE": "benchmarks.sites.django_settings",
    }
    probe = subprocess.run(
        [str(PEERS_PY), "-c", "import django; django.setup(); print('django.setup() ok')"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # Paths relative to the checkout, so the report names no directory outside it.
    output = (probe.stdout + probe.stderr).replace(f"{ROOT}/", "")
    lines = output.strip().splitlines()
    return lines[-1] if lines else f"exit {probe.returncode}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 6.0 if args.quick else 12.0
    work = Path(tempfile.mkdtemp(prefix="lazycron-bench-peers-"))
    results: dict[str, Any] = {"job_every": EVERY, "job_sleep": 0.5}
    results["poormanscron"] = poormanscron_status()
    print(f"django-poormanscron: {results['poormanscron']}")
    if not shutil.which("wrk"):
        save("peers", {**results, "skipped": "wrk is not installed"})
        return 0

    def site(name: str, app: str, mode: str, python: Path) -> Site:
        env = {
            "BENCH_MODE": mode,
            "JOB_EVERY": str(EVERY),
            "JOB_SLEEP": "0.5",
            "CHECK_INTERVAL": "0",
            "JOB_LOG": str(work / f"{name}.jobs.log"),
            "LAZYCRON_STATE_DIR": str(work / f"{name}.state"),
            "BENCH_DB": str(work / f"{name}.sqlite3"),
        }
        return Site(name, app, env, python, workers=4)

    main_py = ROOT / ".venv" / "bin" / "python"
    django_py = PEERS_PY if PEERS_PY.exists() else main_py
    sites = []
    if django_lazycron_available(django_py):
        sites.append(site("django-lazycron", DJANGO, "lazycron", django_py))
    sites.append(site("wsgi-lazycron", WSGI, "lazycron", main_py))
    if PEERS_PY.exists():
        sites.append(site("django-pseudo_cron", DJANGO, "pseudo_cron", PEERS_PY))
        sites.append(site("django-apscheduler", DJANGO, "apscheduler", PEERS_PY))
    results["sites"] = {s.name: duplicates(s, seconds, work) for s in sites}
    save("peers", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
