"""``lazycron`` / ``python -m lazycron``: list, status, run NAME, tick.

The jobs are found by importing the module that declares them (``-m myapp.cron``), or
the application object that wraps them (``--app myapp.wsgi:application``), whose
middleware also tells where the state lives.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .errors import LazyCronError
from .jobs import Job
from .runner import Verdict
from .scheduler import JobStatus, Scheduler
from .schedules import CronSchedule, ticks_from
from .state import Run

__all__ = ["build_parser", "main"]


def build_parser(prog: str = "lazycron") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Inspect and run lazycron jobs.",
        epilog="Example: lazycron -m myapp.cron --state-dir var/lazycron status",
    )
    parser.add_argument(
        "-m",
        "--module",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE to declare its jobs (repeatable; also $LAZYCRON_MODULES, "
        "comma-separated)",
    )
    parser.add_argument(
        "--app",
        metavar="MODULE:NAME",
        help="import an application wrapped in LazyCronMiddleware and use its scheduler",
    )
    parser.add_argument("--state-dir", help="where state lives (default: as the app says)")
    parser.add_argument("--timezone", help="default zone for cron expressions (default UTC)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    add_commands(parser)
    return parser


def add_commands(parser: argparse.ArgumentParser) -> None:
    """The sub-commands; the Django management command reuses them."""
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    listing = commands.add_parser("list", help="the declared jobs and their schedules")
    listing.add_argument(
        "--next",
        type=_count,
        default=0,
        metavar="N",
        help="also show each job's next N ticks, in UTC (an interval job's grid is known "
        "once it has been seen)",
    )
    commands.add_parser("status", help="next tick, last run, outcome, duration, lateness")
    run = commands.add_parser("run", help="run one job now, under its lock")
    run.add_argument("name", help="the job's name")
    commands.add_parser("tick", help="run whatever is due now (for a system crontab)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    sys.path.insert(0, os.getcwd())
    try:
        scheduler = load_scheduler(args)
    except (ImportError, AttributeError, LazyCronError) as exc:
        print(f"lazycron: {exc}", file=sys.stderr)
        return 2
    return execute(scheduler, args.command, args, sys.stdout)


def load_scheduler(args: argparse.Namespace) -> Scheduler:
    modules = list(args.module)
    modules += [m for m in os.environ.get("LAZYCRON_MODULES", "").split(",") if m.strip()]
    for module in modules:
        importlib.import_module(module.strip())
    options: dict[str, Any] = {}
    if args.timezone:
        options["timezone"] = args.timezone
    if args.app:
        module_name, _, attribute = args.app.partition(":")
        app = getattr(importlib.import_module(module_name), attribute or "application")
        found = getattr(app, "scheduler", None)
        if isinstance(found, Scheduler) and not args.state_dir and not options:
            return found
        if isinstance(found, Scheduler):
            options.setdefault("state_dir", found.backend.location)
    if args.state_dir:
        options["state_dir"] = args.state_dir
    return Scheduler(**options)


def execute(scheduler: Scheduler, command: str, args: argparse.Namespace, out: Any) -> int:
    if command == "list":
        return show_list(scheduler, args.json, out, getattr(args, "next", 0))
    if command == "status":
        return show_status(scheduler, args.json, out)
    if command == "run":
        return run_one(scheduler, args.name, args.json, out)
    if command == "tick":
        return run_due(scheduler, args.json, out)
    raise AssertionError(command)  # pragma: no cover - argparse guards this


def show_list(scheduler: Scheduler, as_json: bool, out: Any, next_count: int = 0) -> int:
    jobs = list(scheduler.registry)
    rows: list[dict[str, Any]] = [
        {
            "name": job.name,
            "schedule": job.schedule.describe(),
            "timezone": str(job.timezone or scheduler.runner.default_zone),
            "max_lateness": job.max_lateness,
            "expected_duration": job.expected_duration,
            "rerun_interrupted": job.rerun_interrupted,
            "function": job.origin,
        }
        for job in jobs
    ]
    if next_count:
        for row, job in zip(rows, jobs, strict=True):
            ticks = upcoming_ticks(scheduler, job, next_count)
            row["next"] = None if ticks is None else [iso(tick) for tick in ticks]
    if as_json:
        json.dump(rows, out, indent=2)
        out.write("\n")
        return 0
    header = ["JOB", "SCHEDULE", "ZONE", "FUNCTION"]
    lines = [[r["name"], r["schedule"], r["timezone"], r["function"]] for r in rows]
    if next_count:
        header.append(f"NEXT {next_count} (UTC)")
        for line, row in zip(lines, rows, strict=True):
            known = row["next"]
            line.append("(known once seen)" if known is None else ", ".join(map(short, known)))
    table(out, header, lines)
    return 0


def upcoming_ticks(scheduler: Scheduler, job: Job, count: int) -> list[float] | None:
    """The job's next ticks after now, or ``None`` for an interval job not seen yet (its
    grid starts where it is first seen)."""
    now = scheduler.clock.time()
    if isinstance(job.schedule, CronSchedule):
        return ticks_from(job.schedule, scheduler.runner.zone(job), now, 0.0, count)
    state = scheduler.runner.read(job)
    if state is None:
        return None
    return ticks_from(job.schedule, UTC, max(now, state.first_seen), state.first_seen, count)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number, 0 or more")
    return int(text)


def status_row(status: JobStatus) -> dict[str, Any]:
    state, last = status.state, status.state.last_run if status.state else None
    return {
        "name": status.job.name,
        "schedule": status.job.schedule.describe(),
        "next_tick": iso(status.next_tick),
        "last_tick": iso(state.last_tick) if state else None,
        "running": run_dict(status.running) if status.running else None,
        "overrunning": status.overrunning,
        "last_run": run_dict(last) if last else None,
    }


def run_dict(run: Run) -> dict[str, Any]:
    return {
        "tick": iso(run.tick),
        "started": iso(run.started),
        "ended": iso(run.ended),
        "duration": run.duration,
        "lateness": run.lateness,
        "outcome": run.outcome,
        "trigger": run.trigger,
        "error": run.error,
        "pid": run.pid,
        "host": run.host,
        "skipped": run.skipped,
    }


def show_status(scheduler: Scheduler, as_json: bool, out: Any) -> int:
    rows = [status_row(s) for s in scheduler.status()]
    if as_json:
        json.dump({"state_dir": scheduler.backend.location, "jobs": rows}, out, indent=2)
        out.write("\n")
        return 0
    out.write(f"state: {scheduler.backend.location}\n")
    lines = []
    for row in rows:
        last = row["last_run"] or {}
        now = "overrunning" if row["overrunning"] else ("running" if row["running"] else "")
        lines.append(
            [
                row["name"],
                row["schedule"],
                short(row["next_tick"]) or "(not seen yet)",
                short(last.get("tick")) or "never",
                last.get("outcome", "") + (f" ({now})" if now else ""),
                seconds(last.get("duration")),
                seconds(last.get("lateness")),
                (last.get("error") or "")[:60],
            ]
        )
    table(
        out,
        ["JOB", "SCHEDULE", "NEXT TICK", "LAST TICK", "OUTCOME", "DURATION", "LATENESS", "ERROR"],
        lines,
    )
    return 0


def run_one(scheduler: Scheduler, name: str, as_json: bool, out: Any) -> int:
    try:
        result = scheduler.run_now(name)
    except KeyError as exc:
        print(f"lazycron: {exc.args[0]}", file=sys.stderr)
        return 2
    if result.verdict is Verdict.BUSY:
        print(f"lazycron: job {name!r} is running elsewhere; not started", file=sys.stderr)
        return 3
    if result.ran is None:
        print(
            f"lazycron: could not run {name!r}: the state directory is unusable "
            f"(see the log above)",
            file=sys.stderr,
        )
        return 2
    report_runs([(name, result.ran)], as_json, out)
    return 0 if result.ran.outcome == "ok" else 1


def run_due(scheduler: Scheduler, as_json: bool, out: Any) -> int:
    runs = scheduler.tick()
    report_runs(runs, as_json, out)
    return 1 if any(run.outcome != "ok" for _, run in runs) else 0


def report_runs(runs: list[tuple[str, Run]], as_json: bool, out: Any) -> None:
    if as_json:
        json.dump([{"name": name, **run_dict(run)} for name, run in runs], out, indent=2)
        out.write("\n")
        return
    if not runs:
        out.write("nothing was due\n")
    for label, run in runs:
        error = f": {run.error}" if run.error else ""
        out.write(
            f"{label}: {run.outcome} in {seconds(run.duration)} "
            f"(tick {short(iso(run.tick))}){error}\n"
        )


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def short(text: str | None) -> str:
    return text.replace("T", " ").replace("+00:00", "Z") if text else ""


def seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}s"


def table(out: Any, header: list[str], rows: Sequence[Sequence[object]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        out.write("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")
