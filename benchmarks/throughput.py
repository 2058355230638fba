"""Items 2, 3 and 4: throughput and latency under gunicorn -w 2, measured with wrk.

Two kinds of run, each in interleaved rounds (every site once per round, the order
reversed every other round), each site in a fresh gunicorn that is stopped after its run
(so a job thread can never spill into the next site's measurement):

* **throughput**: ``wrk -t2 -c16`` flat out; each site's requests/s divided by the bare
  site's in the same round.
* **latency**: ``wrk -t2 -c4`` paced by a Lua ``delay()`` of 10 ms per request per
  connection (about 300-400 requests/s), so latency is service time rather than queueing;
  p50 and p99 while a 3 s job (sleeping, or CPU-bound) is running, next to no job.

Each job appends its runs to its own log, from which we compute which share of each wrk
window a job was actually running ("busy").

    python benchmarks/throughput.py [--quick] [--only throughput|latency]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PEERS_VENV, ROOT, fmt, machine, save, summary, versions
from _servers import Site, busy_fraction, read_runs, serve, wrk

MAIN_PY = ROOT / ".venv" / "bin" / "python"
PEERS_PY = PEERS_VENV / "bin" / "python"
WSGI = "benchmarks.sites.wsgi_site:application"
DJANGO = "benchmarks.sites.django_wsgi:application"

IDLE = {"JOB_EVERY": "3600", "CHECK_INTERVAL": "30"}  # declared, nothing due for an hour
FIRING = {"JOB_EVERY": "1", "CHECK_INTERVAL": "0"}  # a trivial job due every second
SLEEP3 = {"JOB_EVERY": "4", "JOB_SLEEP": "3", "CHECK_INTERVAL": "0"}
BUSY3 = {"JOB_EVERY": "4", "JOB_BUSY": "3", "CHECK_INTERVAL": "0"}


def peers_available() -> bool:
    return PEERS_PY.exists()


def django_lazycron_available(python: Path) -> bool:
    probe = subprocess.run(
        [str(python), "-c", "import lazycron.middleware"], check=False, capture_output=True
    )
    return probe.returncode == 0


def make_sites(work: Path, kind: str) -> tuple[str, list[Site]]:
    """The sites of one group and the name of its baseline."""
    django_py = PEERS_PY if peers_available() else MAIN_PY
    lazy_django = django_lazycron_available(django_py)

    def site(name: str, app: str, mode: str, env: dict[str, str], python: Path) -> Site:
        extra = {
            "BENCH_MODE": mode,
            "JOB_LOG": str(work / f"{name}.jobs.log"),
            "LAZYCRON_STATE_DIR": str(work / f"{name}.state"),
            "BENCH_DB": str(work / f"{name}.sqlite3"),
            **env,
        }
        return Site(name, app, extra, python)

    sites: list[Site] = []
    if kind == "throughput":
        sites += [
            site("wsgi-bare", WSGI, "bare", IDLE, MAIN_PY),
            site("wsgi-lazycron-idle", WSGI, "lazycron", IDLE, MAIN_PY),
            site("wsgi-lazycron-firing", WSGI, "lazycron", FIRING, MAIN_PY),
            site("django-bare", DJANGO, "bare", IDLE, django_py),
        ]
        if lazy_django:
            sites += [
                site("django-lazycron-idle", DJANGO, "lazycron", IDLE, django_py),
                site("django-lazycron-firing", DJANGO, "lazycron", FIRING, django_py),
            ]
        if peers_available():
            sites += [
                site("django-pseudo_cron-idle", DJANGO, "pseudo_cron", IDLE, PEERS_PY),
                site("django-pseudo_cron-firing", DJANGO, "pseudo_cron", FIRING, PEERS_PY),
                site("django-apscheduler-firing", DJANGO, "apscheduler", FIRING, PEERS_PY),
            ]
    else:
        sites += [
            site("wsgi-bare", WSGI, "bare", IDLE, MAIN_PY),
            site("wsgi-lazycron-idle", WSGI, "lazycron", IDLE, MAIN_PY),
            site("wsgi-lazycron-sleep3", WSGI, "lazycron", SLEEP3, MAIN_PY),
            site("wsgi-lazycron-busy3", WSGI, "lazycron", BUSY3, MAIN_PY),
            site("django-bare", DJANGO, "bare", IDLE, django_py),
        ]
        if lazy_django:
            sites += [
                site("django-lazycron-sleep3", DJANGO, "lazycron", SLEEP3, django_py),
                site("django-lazycron-busy3", DJANGO, "lazycron", BUSY3, django_py),
            ]
        if peers_available():
            sites += [
                site("django-pseudo_cron-sleep3", DJANGO, "pseudo_cron", SLEEP3, PEERS_PY),
                site("django-apscheduler-sleep3", DJANGO, "apscheduler", SLEEP3, PEERS_PY),
                site("django-apscheduler-busy3", DJANGO, "apscheduler", BUSY3, PEERS_PY),
            ]
    return kind, sites


def prepare(sites: list[Site], work: Path) -> None:
    """Databases for pseudo-cron; first sight for lazycron (so its first tick has passed
    by the time the rounds start, as on a site that has been up for a while)."""
    primed = time.monotonic()
    for site in sites:
        mode = site.env["BENCH_MODE"]
        if mode == "pseudo_cron":
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
        if mode == "lazycron" and float(site.env["JOB_EVERY"]) < 60:
            with serve(site, work):
                pass
    longest = max(
        (float(s.env["JOB_EVERY"]) for s in sites if s.env["JOB_EVERY"] != "3600"), default=0.0
    )
    time.sleep(max(0.0, longest + 0.5 - (time.monotonic() - primed)))


def record(site: Site, result: dict[str, Any], raw: dict[str, Any], index: int) -> None:
    runs = read_runs(Path(site.env["JOB_LOG"]))
    result["busy"] = busy_fraction(runs, result["start"], result["end"])
    result["runs"] = sum(1 for *_, s, e in runs if result["start"] <= s < result["end"])
    raw[site.name].append(result)
    errors = result["non2xx"] + result["socket_errors"]
    print(
        f"  round {index + 1} {site.name:28} {result['rps']:9.0f} req/s  "
        f"p50 {result.get('p50_ms', 0):7.2f} ms  p99 {result.get('p99_ms', 0):8.2f} ms  "
        f"job busy {result['busy']:4.0%}  runs {result['runs']:2}  errors {errors}",
        flush=True,
    )


def run_group(kind: str, sites: list[Site], rounds: int, seconds: float, work: Path) -> Any:
    prepare(sites, work)
    options: dict[str, Any] = (
        {"threads": 2, "connections": 16}
        if kind == "throughput"
        else {"threads": 2, "connections": 4, "delay_ms": 10}
    )
    raw: dict[str, list[dict[str, Any]]] = {site.name: [] for site in sites}
    with ExitStack() as stack:
        # Throughput sites run nothing heavy in the background (APScheduler's 1 s job is
        # trivial, lazycron's only fires under its own traffic), so they stay up for all rounds
        # and short runs interleave finely; latency sites run 3 s jobs, so each gets a
        # fresh server that is stopped (with its job) right after its measurement.
        urls = (
            {site.name: stack.enter_context(serve(site, work)) for site in sites}
            if kind == "throughput"
            else {}
        )
        for index in range(rounds):
            for site in sites if index % 2 == 0 else list(reversed(sites)):
                if kind == "throughput":
                    result = wrk(urls[site.name], seconds, **options)
                else:
                    with serve(site, work) as url:
                        result = wrk(url, seconds, **options)
                record(site, result, raw, index)
    out: dict[str, Any] = {"wrk": raw[sites[0].name][0]["command"], "sites": {}}
    for site in sites:
        baseline = "wsgi-bare" if site.name.startswith("wsgi") else "django-bare"
        results = raw[site.name]
        ratios = [r["rps"] / b["rps"] for r, b in zip(results, raw[baseline], strict=True)]
        out["sites"][site.name] = {
            "env": {
                k: v for k, v in site.env.items() if k.startswith(("JOB_", "CHECK", "BENCH_M"))
            },
            "python": str(site.python.relative_to(ROOT)),
            "rps": summary([r["rps"] for r in results]),
            "ratio": summary(ratios),
            "p50_ms": summary([r["p50_ms"] for r in results]),
            "p99_ms": summary([r["p99_ms"] for r in results]),
            "busy": summary([r["busy"] for r in results]),
            "runs": sum(r["runs"] for r in results),
            "errors": sum(r["non2xx"] + r["socket_errors"] for r in results),
            "baseline": baseline,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round, 2 s")
    parser.add_argument("--only", choices=["throughput", "latency"])
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install -y wrk); skipping")
        save("throughput", {"skipped": "wrk is not installed"})
        return 0
    rounds = 1 if args.quick else 3
    rounds_of = {"throughput": 2 if args.quick else 8, "latency": rounds}
    work = Path(tempfile.mkdtemp(prefix="lazycron-bench-wrk-"))
    results: dict[str, Any] = {"machine": machine(), "rounds": rounds, "work": str(work)}
    if peers_available():
        probe = subprocess.run(
            [
                str(PEERS_PY),
                "-c",
                "import json,_common as c;print(json.dumps(c.versions("
                "['Django','pseudo-cron','APScheduler','gunicorn'])))",
            ],
            cwd=ROOT / "benchmarks",
            check=True,
            capture_output=True,
            text=True,
        )
        results["peers_versions"] = probe.stdout.strip()
    for kind, seconds in (
        ("throughput", 2),
        ("latency", 4),
    ):
        if args.only and args.only != kind:
            continue
        print(f"{kind}: {rounds_of[kind]} round(s) of {seconds} s per site", flush=True)
        _, sites = make_sites(work, kind)
        results[kind] = run_group(kind, sites, rounds_of[kind], seconds, work)
        results[kind]["rounds"] = rounds_of[kind]
        results[kind]["seconds"] = seconds
        for name, site in results[kind]["sites"].items():
            print(
                f"{name:28} ratio {fmt(site['ratio'], digits=3)}  "
                f"p99 {fmt(site['p99_ms'], 'ms', 2)}  busy {fmt(site['busy'], digits=2)}"
            )
    results["main_versions"] = versions(["lazycron", "Django", "gunicorn"])
    save("throughput" if not args.only else f"throughput-{args.only}", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
