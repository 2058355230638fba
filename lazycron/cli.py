"""``lazycron`` / ``python -m lazycron``: list, status, run NAME, tick, pause NAME,
resume NAME, why NAME.

The CLI must act on the state the server uses, or it would run a job under another lock
and break exactly-once. So it never guesses where that state is:

* ``--app module:app`` imports the application the server runs and uses the scheduler it
  really has (see :mod:`lazycron._app_scheduler`); it refuses when there is none;
* ``-m module`` imports the jobs, and ``status``, ``run`` and ``tick`` then need
  ``--state-dir`` (or ``$LAZYCRON_STATE_DIR``), or ``--backend URL`` (or
  ``$LAZYCRON_BACKEND``) for a shared store such as Redis;
* lazycron's default directory is keyed by the working directory, which a crontab does
  not share with the server: ``run`` and ``tick`` refuse it, ``status`` warns.

Exit codes: 0 fine, 1 a job failed, 2 a usage or state-directory problem (with a
message), 3 the job is running elsewhere (``run``; ``pause``/``resume`` after ``--wait``).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import health
from ._app_scheduler import AppNotFoundError, find_scheduler, import_app
from ._control import default_author, set_paused
from .backends import FileBackend, default_state_dir
from .backends.open import describe, hide_password
from .errors import LazyCronError
from .hooks import wait_for_pings
from .jobs import Job
from .runner import Verdict
from .scheduler import JobStatus, Scheduler
from .schedules import CronSchedule, ticks_from
from .state import JobState, Run
from .trigger import new_token
from .why import explain

__all__ = ["build_parser", "main"]


def build_parser(prog: str = "lazycron") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Inspect and run lazycron jobs. Load them with --app (the application "
        "the server runs, which also says where its state lives) or -m with --state-dir. "
        "Under Django use `python manage.py lazycron`.",
        epilog="Examples: lazycron --app app:app status; "
        "lazycron -m myapp.cron --state-dir /srv/app/var/lazycron tick",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "-m",
        "--module",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE to declare its jobs (repeatable; also $LAZYCRON_MODULES, "
        "comma-separated); needs --state-dir for status, run and tick",
    )
    parser.add_argument(
        "--app",
        metavar="MODULE:NAME",
        help="import the application the server runs (NAME may be dotted: app:app.wsgi_app) "
        "and use the scheduler of its LazyCronMiddleware or Flask extension",
    )
    parser.add_argument(
        "--state-dir",
        help="the directory the server keeps state in (its state_dir=); also "
        "$LAZYCRON_STATE_DIR. Required with -m for status, run and tick",
    )
    parser.add_argument(
        "--backend",
        metavar="URL",
        help="the shared store the servers keep job records in, instead of --state-dir: "
        "a redis:// or rediss:// URL (also $LAZYCRON_BACKEND)",
    )
    parser.add_argument("--timezone", help="default zone for cron expressions (default UTC)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    add_commands(parser)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("lazycron")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        return "unknown (not installed)"


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
    status = commands.add_parser(
        "status", help="next tick (and whether it is overdue), last tick, last run, outcome"
    )
    status.add_argument(
        "--check",
        action="store_true",
        help="judge health for a monitor: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
    )
    subcommands = [
        listing,
        status,
        run := commands.add_parser("run", help="run one job now, under its lock"),
        commands.add_parser("tick", help="run whatever is due now (for a system crontab)"),
        pause := commands.add_parser(
            "pause", help="pause a job on every process and host: its ticks are skipped"
        ),
        resume := commands.add_parser("resume", help="resume a paused job at its next tick"),
        commands.add_parser(
            "token", help="print a new random token for the trigger and health URLs"
        ),
        why := commands.add_parser(
            "why", help="why a job did not run at its last due tick, from recorded facts"
        ),
    ]
    run.add_argument("name", help="the job's name")
    why.add_argument("name", help="the job's name")
    for control in (pause, resume):
        control.add_argument("name", help="the job's name")
        control.add_argument(
            "--by", help="who is acting, shown by status and why (default: user@host)"
        )
        control.add_argument(
            "--wait",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="how long to wait for a run in progress to end (default 30)",
        )
    for subcommand in subcommands:
        # `lazycron status --json` as well as `lazycron --json status`.
        subcommand.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
        )


class UsageError(Exception):
    """The command cannot know what to act on; the message says how to tell it."""


NO_JOBS = (
    "no jobs are loaded. Point lazycron at them: --app MODULE:APP (the application your "
    "server runs, e.g. --app app:app), or -m MODULE (the module that declares them) with "
    "--state-dir DIR; under Django, run `python manage.py lazycron {command}`"
)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    if args.command == "token":
        print(new_token())
        return 0
    sys.path.insert(0, os.getcwd())
    try:
        scheduler = load_scheduler(args)
    except (ImportError, AppNotFoundError, LazyCronError, UsageError) as exc:
        print(f"lazycron: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if type(exc).__name__ != "ImproperlyConfigured":  # Django's, without importing it
            raise
        print(f"lazycron: {exc}", file=sys.stderr)
        return 2
    return execute(scheduler, args.command, args, sys.stdout)


def load_scheduler(args: argparse.Namespace) -> Scheduler:
    modules = list(args.module)
    modules += [m for m in os.environ.get("LAZYCRON_MODULES", "").split(",") if m.strip()]
    for module in modules:
        importlib.import_module(module.strip())
    state_dir = args.state_dir or os.environ.get("LAZYCRON_STATE_DIR")
    backend = args.backend or os.environ.get("LAZYCRON_BACKEND") or None
    if args.state_dir and args.backend:
        raise UsageError("give --state-dir or --backend, not both")
    if not args.app and not modules:
        raise UsageError(NO_JOBS.format(command=args.command))
    if args.app:
        scheduler = _app_scheduler(
            args.app, args.state_dir, args.timezone, args.command, args.backend
        )
    else:
        if state_dir is None and backend is None and args.command != "list":
            raise UsageError(
                f"{args.command} needs the state directory the server uses: pass --state-dir "
                f"DIR (the state_dir= of its middleware) or --backend URL (its shared store), "
                f"or --app MODULE:APP to read it from the application. Without either, "
                f"lazycron would guess a directory from the working directory and act on "
                f"state the server never sees"
            )
        options: dict[str, Any] = (
            {"backend": backend} if backend and not args.state_dir else {"state_dir": state_dir}
        )
        if args.timezone:
            options["timezone"] = args.timezone
        scheduler = Scheduler(**options)
    if not len(scheduler.registry):
        loaded = ", ".join(modules)
        if loaded:
            raise UsageError(f"{loaded} declared no jobs; " + NO_JOBS.format(command=args.command))
        raise UsageError(NO_JOBS.format(command=args.command))
    return scheduler


def _app_scheduler(
    spec: str, state_dir: str | None, timezone: str | None, command: str, backend: str | None
) -> Scheduler:
    found = find_scheduler(import_app(spec))
    if found is None:
        raise UsageError(
            f"found no lazycron scheduler in {spec}. Point --app at the object the server "
            f"runs, wrapped in lazycron's middleware: Flask `app.wsgi_app = "
            f"LazyCronMiddleware(app.wsgi_app, ...)` or the lazycron.flask extension "
            f"(--app app:app), Starlette/FastAPI `app.add_middleware(LazyCronMiddleware, "
            f"...)` (--app main:app), a plain wrap (--app module:application), a Django "
            f"project (--app mysite.wsgi:application, or `manage.py lazycron`). Or load "
            f"the jobs with -m MODULE --state-dir DIR"
        )
    if timezone and str(found.runner.default_zone) != timezone:
        raise UsageError(
            f"{spec} reads cron expressions in {found.runner.default_zone}, not {timezone}; "
            f"drop --timezone"
        )
    guessed = _is_guessed(found)
    if backend is not None:
        if hide_password(backend) == found.backend.location:
            return found
        if not guessed:
            raise UsageError(
                f"{spec} keeps its job records in {found.backend.location}, not in "
                f"{hide_password(backend)}; drop --backend, so that lazycron acts on the "
                f"records the server uses"
            )
        return _relocated(found, backend=backend)
    if state_dir is not None:
        if Path(state_dir).expanduser().absolute() == Path(found.backend.location):
            return found
        if not guessed:
            raise UsageError(
                f"{spec} keeps its state in {found.backend.location}, not in {state_dir}; "
                f"drop --state-dir, so that lazycron acts on the state the server uses"
            )
        return _relocated(found, state_dir=state_dir)
    if guessed:
        message = (
            f"{spec} sets no state_dir=, so the server keeps its state in a directory "
            f"derived from *its* working directory, which this command cannot know (here "
            f"it would be {found.backend.location}). Give the middleware an absolute "
            f"state_dir=, or pass --state-dir DIR or $LAZYCRON_STATE_DIR"
        )
        if command in {"run", "tick", "pause", "resume"}:
            raise UsageError(message)
        if command == "status":
            print(f"lazycron: warning: {message}", file=sys.stderr)
    return found


def _is_guessed(scheduler: Scheduler) -> bool:
    """Whether the scheduler fell back to the default keyed by the working directory."""
    if os.environ.get("LAZYCRON_STATE_DIR") or not isinstance(scheduler.backend, FileBackend):
        return False
    return Path(scheduler.backend.location) == default_state_dir().absolute()


def _relocated(
    found: Scheduler, *, state_dir: str | None = None, backend: str | None = None
) -> Scheduler:
    """The app's scheduler (jobs, zone, options), with the state where --state-dir (or
    --backend) says."""
    return Scheduler(
        found.registry,
        state_dir=state_dir,
        backend=backend,
        check_interval=found.check_interval,
        timezone=found.runner.default_zone,
        history_limit=found.runner.history_limit,
        job_context=found.runner.job_context,
        hooks=found.runner.hooks,
    )


def execute(
    scheduler: Scheduler, command: str, args: argparse.Namespace, out: Any, err: Any = None
) -> int:
    """Run one command; 2 with a message when the state directory cannot be used."""
    err = err or sys.stderr
    try:
        if command == "list":
            return show_list(scheduler, args.json, out, getattr(args, "next", 0))
        if command == "status" and getattr(args, "check", False):
            return show_health(scheduler, args.json, out)
        if command == "status":
            warn_if_unusable(scheduler, err)
            return show_status(scheduler, args.json, out)
        if command == "run":
            status = run_one(scheduler, args.name, args.json, out, err)
            wait_for_pings()
            return status
        if command == "tick":
            status = run_due(scheduler, args.json, out)
            wait_for_pings()
            return status
        if command == "token":
            out.write(new_token() + "\n")
            return 0
        if command == "why":
            return show_why(scheduler, args.name, args.json, out, err)
        if command in {"pause", "resume"}:
            return pause_or_resume(scheduler, command, args, out, err)
    except (OSError, LazyCronError) as exc:
        print(f"lazycron: {describe(scheduler.backend)} cannot be used: {exc}", file=err)
        return 2
    raise AssertionError(command)  # pragma: no cover - argparse guards this


def warn_if_unusable(scheduler: Scheduler, err: Any) -> None:
    """``status`` only reads, and creates nothing; but what it shows is only what the
    server sees if the server can use the directory. Say so when it cannot."""
    location = Path(scheduler.backend.location)
    if isinstance(scheduler.backend, FileBackend) and not location.exists():
        print(
            f"lazycron: warning: state directory {location} does not exist: no process has "
            f"run a job there. Is it the server's state_dir?",
            file=err,
        )
        return
    try:
        scheduler.backend.prepare()
    except (OSError, LazyCronError) as exc:
        print(f"lazycron: warning: the server will not use this state: {exc}", file=err)


def show_list(scheduler: Scheduler, as_json: bool, out: Any, next_count: int = 0) -> int:
    jobs = list(scheduler.registry)
    rows: list[dict[str, Any]] = [
        {
            "name": job.name,
            "schedule": job.schedule.describe(),
            "timezone": str(job.timezone or scheduler.runner.default_zone),
            "max_lateness": job.max_lateness,
            "expected_duration": job.expected_duration,
            "max_runtime": job.max_runtime,
            "grace": job.grace,
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


def status_row(status: JobStatus, now: float) -> dict[str, Any]:
    state, last = status.state, status.state.last_run if status.state else None
    return {
        "name": status.job.name,
        "schedule": status.job.schedule.describe(),
        "next_tick": iso(status.next_tick),
        # Nobody has run a tick that is already past: no request has come, or the
        # check interval is longer than the job's interval.
        "overdue": bool(
            status.next_tick is not None and status.next_tick < now and not status.running
        ),
        "last_tick": iso(state.last_tick) if state else None,
        "running": run_dict(status.running) if status.running else None,
        "overrunning": status.overrunning,
        "paused": pause_dict(state),
        "last_run": run_dict(last, task_status(status.job, last)) if last else None,
    }


def task_status(job: Job, run: Run) -> str | None:
    """An enqueued run's task status: from the task backend now, when it can say (the
    task's own final status once its worker is done), else as recorded when enqueued."""
    if run.task_id is None:
        return None
    live = job.handoff.final_status(run.task_id) if job.handoff is not None else None
    return live or run.task_status


def run_dict(run: Run, task_status: str | None = None) -> dict[str, Any]:
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
        "task_id": run.task_id,
        "task_backend": run.task_backend,
        "task_status": task_status or run.task_status,
        "reason": run.reason,
    }


# A run handed to a task queue succeeded as far as lazycron goes: the task is the queue's.
SUCCESSES = frozenset({"ok", "enqueued"})

STATUS_HEADER = [
    "JOB",
    "SCHEDULE",
    "NEXT TICK",
    "LAST TICK",
    "LAST RUN",
    "HOST",
    "OUTCOME",
    "DURATION",
    "LATENESS",
    "SKIPPED",
    "ERROR",
]


def show_status(scheduler: Scheduler, as_json: bool, out: Any) -> int:
    now = scheduler.clock.time()
    rows = [status_row(s, now) for s in scheduler.status()]
    if as_json:
        json.dump({"state_dir": scheduler.backend.location, "jobs": rows}, out, indent=2)
        out.write("\n")
        return 0
    out.write(f"state: {scheduler.backend.location}\n")
    table(out, STATUS_HEADER, [status_line(row) for row in rows])
    return 0


def status_line(row: dict[str, Any]) -> list[str]:
    """One row of the table. LAST TICK is the last *scheduled* tick; a manual run has no
    tick of its own, so it shows under LAST RUN, marked, and has no lateness."""
    last = row["last_run"] or {}
    now = "overrunning" if row["overrunning"] else ("running" if row["running"] else "")
    next_tick = short(row["next_tick"]) or "(not seen yet)"
    if row["paused"]:
        next_tick += " (paused)"
    elif row["overdue"]:
        next_tick += " (overdue)"
    last_run = short(last.get("started"))
    if last and last["trigger"] != "schedule":
        last_run += f" ({last['trigger']})"
    return [
        row["name"],
        row["schedule"],
        next_tick,
        short(row["last_tick"]) or "never",
        last_run or "never",
        # Which host ran it (on a shared store, any of them); the running one if any.
        (row["running"] or last).get("host") or "",
        last.get("outcome", "")
        + (f" ({last['task_status']})" if last.get("task_status") else "")
        + (f" ({last['reason']})" if last.get("reason") else "")
        + (f" ({now})" if now else ""),
        seconds(last.get("duration")),
        "" if not last or last["trigger"] == "manual" else seconds(last.get("lateness")),
        str(last["skipped"]) if last.get("skipped") else "",
        (last.get("error") or "")[:60],
    ]


def run_one(scheduler: Scheduler, name: str, as_json: bool, out: Any, err: Any) -> int:
    try:
        result = scheduler.run_now(name)
    except KeyError as exc:
        print(f"lazycron: {exc.args[0]}", file=err)
        return 2
    if result.verdict is Verdict.BUSY:
        print(f"lazycron: job {name!r} is running elsewhere; not started", file=err)
        return 3
    if result.ran is None:
        print(
            f"lazycron: could not run {name!r}: the {describe(scheduler.backend)} is "
            f"unusable (see the log above)",
            file=err,
        )
        return 2
    report_runs([(name, result.ran)], as_json, out)
    return 0 if result.ran.outcome in SUCCESSES else 1


def show_health(scheduler: Scheduler, as_json: bool, out: Any) -> int:
    """``status --check``: the monitoring-plugin verdict (see :mod:`lazycron.health`)."""
    try:
        verdict = health.check(scheduler)
    except Exception as exc:  # a monitor must get UNKNOWN, never a traceback
        if as_json:
            json.dump({"status": "UNKNOWN", "code": health.UNKNOWN, "error": str(exc)}, out)
            out.write("\n")
        else:
            out.write(f"LAZYCRON UNKNOWN - {exc.__class__.__name__}: {exc}\n")
        return health.UNKNOWN
    if as_json:
        json.dump(verdict.as_dict(), out, indent=2)
        out.write("\n")
        return verdict.code
    out.write(verdict.summary() + "\n")
    for job in verdict.jobs:
        reasons = "; ".join(job.reasons) or "on time"
        out.write(f"  {job.name}: {health.NAMES[job.code]} ({reasons})\n")
    return verdict.code


def show_why(scheduler: Scheduler, name: str, as_json: bool, out: Any, err: Any) -> int:
    try:
        job = scheduler.registry.get(name)
    except KeyError as exc:
        print(f"lazycron: {exc.args[0]}", file=err)
        return 2
    answer = explain(scheduler, job)
    if as_json:
        json.dump({"name": name, **answer.as_dict()}, out, indent=2)
        out.write("\n")
    else:
        out.write(f"{name}: {answer.text}\n")
    return 0


def pause_or_resume(
    scheduler: Scheduler, command: str, args: argparse.Namespace, out: Any, err: Any
) -> int:
    try:
        job = scheduler.registry.get(args.name)
    except KeyError as exc:
        print(f"lazycron: {exc.args[0]}", file=err)
        return 2
    scheduler.backend.prepare()
    result = set_paused(
        scheduler.runner,
        job,
        pause=command == "pause",
        by=args.by or default_author(),
        wait=args.wait,
    )
    if result.state is None:
        where = ""
        if result.running is not None:
            run = result.running
            where = f" on {run.host} (pid {run.pid}, since {short(iso(run.started))})"
        print(
            f"lazycron: job {args.name!r} is still running{where} after {args.wait:g}s; "
            f"not {command}d. Try again when it ends, or with a longer --wait",
            file=err,
        )
        return 3
    pause = result.state.paused
    if args.json:
        json.dump({"name": args.name, "paused": pause_dict(result.state)}, out, indent=2)
        out.write("\n")
    elif pause is not None:
        out.write(f"{args.name}: paused since {short(iso(pause.since))} by {pause.by}\n")
    else:
        next_tick = scheduler.runner.next_due(job, result.state)
        out.write(f"{args.name}: resumed; next tick {short(iso(next_tick))}\n")
    return 0


def pause_dict(state: JobState | None) -> dict[str, Any] | None:
    if state is None or state.paused is None:
        return None
    return {"since": iso(state.paused.since), "by": state.paused.by}


def run_due(scheduler: Scheduler, as_json: bool, out: Any) -> int:
    runs = scheduler.tick()
    report_runs(runs, as_json, out)
    return 1 if any(run.outcome not in SUCCESSES for _, run in runs) else 0


def report_runs(runs: list[tuple[str, Run]], as_json: bool, out: Any) -> None:
    if as_json:
        json.dump([{"name": name, **run_dict(run)} for name, run in runs], out, indent=2)
        out.write("\n")
        return
    if not runs:
        out.write("nothing was due\n")
    for label, run in runs:
        error = f": {run.error}" if run.error else ""
        if run.task_id is not None:
            error += f" (task {run.task_id} on {run.task_backend})"
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
