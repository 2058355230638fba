"""Run every benchmark and write BENCHMARKS.md from their results.

    make bench                 (= .venv/bin/python benchmarks/run_all.py)
    make bench-quick           (= .venv/bin/python benchmarks/run_all.py --quick)
    python benchmarks/run_all.py --render   (rewrite BENCHMARKS.md from benchmarks/results)

Each script can also be run alone; each writes benchmarks/results/<name>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, fmt, load, machine

SCRIPTS = ["fastpath", "scale", "memory", "peers", "lag", "throughput", "backends"]


def run(quick: bool) -> dict[str, float]:
    took = {}
    for name in SCRIPTS:
        command = [sys.executable, f"benchmarks/{name}.py", *(["--quick"] if quick else [])]
        print(f"\n$ {' '.join(command)}", flush=True)
        began = time.monotonic()
        subprocess.run(command, cwd=ROOT, check=True)
        took[name] = time.monotonic() - began
    return took


def ok(flag: bool) -> str:
    return "pass" if flag else "**fail**"


def render(took: dict[str, float] | None, quick: bool) -> str:
    fast, thr, peers, lag, scale, mem = (
        load(n) for n in ("fastpath", "throughput", "peers", "lag", "scale", "memory")
    )
    lines: list[str] = []
    add = lines.append
    info = machine()
    add("# lazycron benchmarks\n")
    add(
        "Every number below comes from a run on the machine described next, of `make bench` "
        f"(`.venv/bin/python benchmarks/run_all.py{' --quick' if quick else ''}`) or of one of "
        "its scripts (each section names the command that produced it); the raw results are "
        "in `benchmarks/results/*.json`, each with its command. Medians, with [min-max] "
        "over the rounds. Every comparison "
        "is a ratio or a difference measured side by side in the same run, interleaved "
        "(A B, B A, ...).\n"
    )
    add("## Machine\n")
    add(f"- {info['cores']} cores ({info['cpu']}), {info['os']}, shared and noisy")
    add(f"- Python {info['python']}; {info['wrk']}")
    add("- " + ", ".join(f"{k} {v}" for k, v in info["packages"].items()))
    if thr and "peers_versions" in thr:
        peer = json.loads(thr["peers_versions"])
        add(
            "- peers venv (`benchmarks/.venv-peers`): "
            + ", ".join(f"{k} {v}" for k, v in peer.items())
        )
    if took:
        total = sum(took.values())
        add(
            f"- run time of the last `make bench`: {total:.0f} s in all ("
            + ", ".join(f"{k} {v:.0f} s" for k, v in took.items())
            + ")"
        )
    add("")

    add("## Summary\n")
    add("| item | target | measured: median [range] | result |")
    add("|---|---|---|---|")
    if fast:
        for key, label in (
            ("wsgi", "WSGI"),
            ("asgi", "ASGI"),
            ("django", "Django (middleware alone; full stack in §1)"),
        ):
            part = fast[key]
            part = part.get("middleware_alone", part)
            if "added_ns" in part:
                add(
                    f"| 1. fast path added per request, {label} | < 1 µs | "
                    f"{fmt(part['added_ns'], 'ns')} | {ok(part['added_ns']['median'] < 1000)} |"
                )
            else:
                add(f"| 1. fast path, {label} | < 1 µs | not measured: {part['skipped']} | - |")
    if thr and "throughput" in thr:
        sites = thr["throughput"]["sites"]
        control = sites.get("django-apscheduler-firing")
        note = (
            f"; noise floor: APScheduler, which adds nothing per request, "
            f"{fmt(control['ratio'], digits=3)}"
            if control
            else ""
        )
        for name, site in sites.items():
            if "lazycron" in name:
                add(
                    f"| 2. throughput {name} / bare | ≥ 0.98 | {fmt(site['ratio'], digits=3)}"
                    f"{note} | {ok(site['ratio']['median'] >= 0.98)} (within noise, see notes) |"
                )
    if peers:
        for name, site in peers.get("sites", {}).items():
            if "lazycron" in name:
                add(
                    f"| 3. runs per tick, 4 workers, {name} | 1 | mean "
                    f"{site['runs_per_tick_mean']:.2f}, max {site['runs_per_tick_max']} "
                    f"({site['runs']} runs, {site['ticks']} ticks) | "
                    f"{ok(site['runs_per_tick_max'] == 1)} |"
                )
    if scale:
        flat = [c["due_ns"]["median"] for c in scale["cells"]]
        add(
            f"| 6. due() from N=10 to N={scale['cells'][-1]['n']:,} jobs | constant | "
            f"{min(flat):.0f}-{max(flat):.0f} ns | {ok(max(flat) < 1000)} |"
        )
        sizes = scale["history"]["bytes_after_runs"]
        last = list(sizes.values())
        add(
            f"| 6. state dir after {list(sizes)[-1]} runs (history_limit "
            f"{scale['history']['history_limit']}) | bounded | {last[-1]} bytes "
            f"(same as after {scale['history']['history_limit']} runs: {last[1]}) | "
            f"{ok(last[-1] == last[1])} |"
        )
    if mem:
        grew = mem["rss_after_calls_kib"] - mem["rss_before_kib"]
        add(
            f"| 7. RSS growth over {mem['calls']:,} fast-path calls | none | {grew} KiB | "
            f"{ok(grew < 512)} |"
        )
        add(
            f"| 7. RSS growth over {mem['runs']:,} runs | - | "
            f"{mem['rss_after_runs_kib'] - mem['rss_before_runs_kib']} KiB "
            f"(half-way: {mem['rss_half_runs_kib'] - mem['rss_before_runs_kib']} KiB) | see §7 |"
        )
    add("")

    if fast:
        add("## 1. Fast-path cost\n")
        add(
            f"Command: `{fast['command']}`. timeit, {fast['number']:,} calls per timing, "
            f"{fast['wsgi']['rounds']} interleaved rounds; nothing due (one job declared, "
            "first check done, next tick an hour away). ASGI is driven with `coro.send(None)`, "
            "no event loop. Django: the whole `WSGIHandler` with and without the middleware.\n"
        )
        add("| stack | bare | with lazycron | added |")
        add("|---|---|---|---|")
        for key, label in (("wsgi", "WSGI"), ("asgi", "ASGI"), ("django", "Django")):
            part = fast[key]
            if "added_ns" in part:
                add(
                    f"| {label} | {fmt(part['bare_ns'], 'ns')} | {fmt(part['wrapped_ns'], 'ns')}"
                    f" | {fmt(part['added_ns'], 'ns')} |"
                )
            else:
                add(f"| {label} | - | - | not measured: {part['skipped']} |")
        if "middleware_alone" in fast["django"]:
            alone = fast["django"]["middleware_alone"]
            add(
                f"| Django middleware alone, around a view-like callable | "
                f"{fmt(alone['bare_ns'], 'ns')} | {fmt(alone['wrapped_ns'], 'ns')} | "
                f"{fmt(alone['added_ns'], 'ns')} |"
            )
        if "passthrough_added_ns" in fast["asgi"]:
            add(
                f"\nFor scale: an empty pass-through ASGI middleware (one more coroutine) adds "
                f"{fmt(fast['asgi']['passthrough_added_ns'], 'ns')}; `scheduler.due()` alone "
                f"costs {fmt(fast['due_ns'], 'ns')} including the method call.\n"
            )
    if thr and "throughput" in thr:
        for kind, title in (("throughput", "2-3. Throughput"), ("latency", "4. Latency")):
            part = thr[kind]
            add(f"## {title}\n")
            add(
                f"Command: `{thr['command']}`. Each site under `gunicorn -w 2` on loopback, "
                + (
                    "all up for the whole run"
                    if kind == "throughput"
                    else "fresh for each measurement and stopped (with its job) right after it"
                )
                + f"; {part.get('rounds', thr['rounds'])} interleaved rounds of `"
                + " ".join(w for w in part["wrk"].split() if not w.startswith(("/", "-s")))
                + "`"
                + (
                    " (paced: a Lua `delay()` of 10 ms per request per connection)"
                    if kind == "latency"
                    else ""
                )
                + ". Ratio = requests/s over the bare site's in the same round. "
                "*busy* = share of the wrk window during which a job was running, "
                "from the job's own log. Errors: non-2xx responses and socket errors.\n"
            )
            add(
                "| site | job | req/s | ratio to bare | p50 ms | p99 ms | job busy | "
                "job runs | errors |"
            )
            add("|---|---|---|---|---|---|---|---|---|")
            for name, site in part["sites"].items():
                env = site["env"]
                job = (
                    f"every {env['JOB_EVERY']} s"
                    + (f", sleep {env['JOB_SLEEP']} s" if "JOB_SLEEP" in env else "")
                    + (f", CPU {env['JOB_BUSY']} s" if "JOB_BUSY" in env else "")
                    + (
                        f", check_interval {env['CHECK_INTERVAL']}"
                        if "lazycron" in name
                        else " (its own scheduling)"
                    )
                )
                if "bare" in name:
                    job = "none"
                add(
                    f"| {name} | {job} | {fmt(site['rps'])} | {fmt(site['ratio'], digits=3)} | "
                    f"{fmt(site['p50_ms'], digits=2)} | {fmt(site['p99_ms'], digits=1)} | "
                    f"{fmt(site['busy'], digits=2)} | {site['runs']} | {site['errors']} |"
                )
            add("")
    if peers:
        add("## 3. Peers: runs per tick with 4 workers\n")
        add(
            f"Command: `{peers['command']}`. `gunicorn -w 4`, a job every "
            f"{peers['job_every']:g} s that sleeps {peers['job_sleep']} s, paced wrk traffic; "
            "counted from the job's own log.\n"
        )
        add(
            "| site | runs | ticks | runs per tick (mean / max) | workers that ran it | "
            "request errors |"
        )
        add("|---|---|---|---|---|---|")
        for name, site in peers.get("sites", {}).items():
            add(
                f"| {name} | {site['runs']} | {site['ticks']} | "
                f"{site['runs_per_tick_mean']:.2f} / {site['runs_per_tick_max']} | "
                f"{site['pids']} of {site['workers']} | {site['errors']} of {site['requests']} |"
            )
        add(
            f"\n**django-poormanscron** 0.1.3 (2012) does not work on current Django: "
            f"`django.setup()` fails with `{peers['poormanscron']}`.\n"
        )
    if lag:
        add("## 5. Scheduling lag\n")
        add(
            f"Command: `{lag['command']}`. Six cells at once, each a `gunicorn -w 2` WSGI site "
            f"with a job every {lag['job_every']} s, for {lag['seconds']} s of Poisson traffic. "
            "Lateness = job start minus tick.\n"
        )
        add("| traffic | check_interval | samples | median s | p90 s | range s |")
        add("|---|---|---|---|---|---|")
        for cell in lag["cells"].values():
            stat = cell["lateness_s"]
            if stat:
                add(
                    f"| {cell['measured_rps']:.1f} req/s | {cell['check_interval']} | "
                    f"{cell['samples']} | {stat['median']:.3f} | {cell['p90_s']:.3f} | "
                    f"{stat['min']:.3f}-{stat['max']:.3f} |"
                )
            else:
                add(
                    f"| {cell['measured_rps']:.1f} req/s | {cell['check_interval']} "
                    "| 0 | - | - | - |"
                )
        add("")
    if scale:
        add("## 6. Scale\n")
        add(
            f"Command: `{scale['command']}`. In-process, injected clock, N registered jobs "
            f"with k due at each step, {scale['rounds']} steps; state files pre-seeded.\n"
        )
        add(
            "| N registered | k due | due() ns | first check of a process (ms) | "
            "check() on the request side (µs) | check + dispatch + k runs (ms) |"
        )
        add("|---|---|---|---|---|---|")
        for c in scale["cells"]:
            add(
                f"| {c['n']:,} | {c['k']} | {fmt(c['due_ns'])} | {c['first_check_ms']:.1f} | "
                f"{fmt(c['check_us'])} | {fmt(c['check_and_dispatch_ms'], digits=1)} |"
            )
        hist = scale["history"]
        add(
            f"\nState directory of one job as its history grows (history_limit "
            f"{hist['history_limit']}): "
            + ", ".join(f"{n} runs: {b} bytes" for n, b in hist["bytes_after_runs"].items())
            + f"; {hist['files']} files (state + lock).\n"
        )
    if mem:
        add("## 7. Memory\n")
        add(f"Command: `{mem['command']}`. RSS from /proc/self/status after `gc.collect()`.\n")
        add(
            f"- fast path: {mem['rss_before_kib']} KiB before, {mem['rss_after_calls_kib']} KiB "
            f"after {mem['calls']:,} calls"
        )
        add(
            f"- runs: {mem['rss_before_runs_kib']} KiB before, {mem['rss_half_runs_kib']} KiB "
            f"half-way, {mem['rss_after_runs_kib']} KiB after {mem['runs']:,} runs\n"
        )
    import backends  # the section of the shared stores (needs Redis and PostgreSQL to run)

    backends.render(lines)
    notes = ROOT / "benchmarks" / "NOTES.md"
    if notes.exists():
        add(notes.read_text())
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run of every script")
    parser.add_argument("--render", action="store_true", help="only rewrite BENCHMARKS.md")
    args = parser.parse_args()
    took = None if args.render else run(args.quick)
    timing = ROOT / "benchmarks" / "results" / "run_all.json"
    if took is not None:
        timing.write_text(json.dumps({"quick": args.quick, "took": took}, indent=2) + "\n")
    elif timing.exists():
        saved = json.loads(timing.read_text())
        took, args.quick = saved["took"], saved["quick"]
    (ROOT / "BENCHMARKS.md").write_text(render(took, args.quick))
    print(f"\nwrote {ROOT / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
