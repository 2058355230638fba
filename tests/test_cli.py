"""The ``lazycron`` command: list, status, run NAME, tick, with and without --json."""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import lazycron
from lazycron import Registry, Scheduler
from lazycron.cli import execute
from lazycron.testing import FakeClock

ROOT = Path(__file__).resolve().parent.parent


class Cli:
    """``python -m lazycron`` on tests/apps/clijobs.py, with a private state directory.
    ``log`` is the file the jobs append their names to."""

    def __init__(self, tmp_path: Path) -> None:
        self.state_dir = tmp_path / "state"
        self.log = tmp_path / "cli.log"

    def __call__(self, *args: str, expect: int = 0) -> str:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "lazycron",
                "-m",
                "tests.apps.clijobs",
                "--state-dir",
                str(self.state_dir),
                *args,
            ],
            cwd=ROOT,
            env={**os.environ, "CLI_LOG": str(self.log)},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert out.returncode == expect, out.stderr + out.stdout
        return out.stdout + out.stderr


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_list(cli: Cli) -> None:
    text = cli("list")
    assert "greet" in text and "every 1h" in text
    assert "nightly" in text and "0 3 * * *" in text and "Europe/Berlin" in text
    rows = json.loads(cli("--json", "list"))
    assert {r["name"] for r in rows} == {"greet", "nightly"}


def test_list_next_shows_the_ticks_the_scheduler_will_use(cli: Cli) -> None:
    rows = {r["name"]: r for r in json.loads(cli("--json", "list", "--next", "3"))}
    nightly = rows["nightly"]["next"]
    assert len(nightly) == 3
    after = datetime.fromisoformat(nightly[0]) - timedelta(seconds=1)
    expected = lazycron.next_ticks("0 3 * * *", timezone="Europe/Berlin", after=after, count=3)
    assert nightly == [tick.isoformat() for tick in expected]
    assert rows["greet"]["next"] is None  # an interval's grid starts when it is first seen
    text = cli("list", "--next", "2")
    assert "NEXT 2 (UTC)" in text and "(known once seen)" in text
    cli("run", "greet")  # now seen: its grid is known
    greet = json.loads(cli("--json", "list", "--next", "2"))[0]
    assert greet["name"] == "greet" and len(greet["next"]) == 2
    assert "is not a whole number" in cli("list", "--next", "x", expect=2)


def test_status_before_and_after_runs(cli: Cli) -> None:
    assert "(not seen yet)" in cli("status")
    cli("run", "greet")
    cli("run", "nightly", expect=1)
    text = cli("status")
    header, *lines = text.splitlines()[1:]
    assert [column.strip() for column in header.split("  ") if column.strip()] == [
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
    assert any("greet" in line and " ok " in line for line in lines)
    assert any(
        "nightly" in line and "failed" in line and "report server is down" in line for line in lines
    )
    data = json.loads(cli("--json", "status"))
    jobs = {j["name"]: j for j in data["jobs"]}
    assert jobs["greet"]["last_run"]["outcome"] == "ok"
    assert jobs["greet"]["last_run"]["trigger"] == "manual"
    assert jobs["nightly"]["last_run"]["error"] == "RuntimeError: the report server is down"
    assert jobs["nightly"]["next_tick"].endswith(("T02:00:00+00:00", "T01:00:00+00:00"))


def test_run_reports_and_sets_the_exit_code(cli: Cli) -> None:
    assert "greet: ok" in cli("run", "greet")
    assert cli.log.read_text() == "greet\n"
    assert "nightly: failed" in cli("run", "nightly", expect=1)
    assert "no job named 'nope'" in cli("run", "nope", expect=2)


def test_tick_runs_only_what_is_due(cli: Cli) -> None:
    assert "nothing was due" in cli("tick")  # first sight: nothing fires
    assert "nothing was due" in cli("tick")
    assert not cli.log.exists()
    assert json.loads(cli("--json", "tick")) == []


def test_a_missing_module_is_a_clear_error(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "lazycron", "-m", "no.such.module", "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "No module named 'no'" in out.stderr


def test_a_manual_run_shows_as_manual_not_as_a_tick(cli: Cli) -> None:
    # Before: LAST TICK showed the manual run's time, later than NEXT TICK.
    cli("tick")  # first sight
    cli("run", "greet")
    (line,) = [line for line in cli("status").splitlines() if line.startswith("greet")]
    cells = [cell.strip() for cell in line.split("  ") if cell.strip()]
    assert cells[3] == "never"  # no scheduled tick has run
    assert cells[4].endswith("(manual)")
    assert cells[5] == socket.gethostname()  # HOST: who ran it
    assert cells[6] == "ok"


def test_version(cli: Cli) -> None:
    from importlib.metadata import version

    assert cli("--version").strip() == f"lazycron {version('lazycron')}"


def lazycron_bare(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"LAZYCRON_STATE_DIR", "LAZYCRON_MODULES"}
    }
    return subprocess.run(
        [sys.executable, "-m", "lazycron", *args],
        cwd=ROOT,
        env={**env, "CLI_LOG": os.devnull},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("command", [["list"], ["status"], ["tick"], ["run", "greet"]])
def test_no_jobs_loaded_says_how_to_load_them(command: list[str]) -> None:
    result = lazycron_bare(*command)
    assert result.returncode == 2
    assert result.stdout == ""
    for way in ("--app MODULE:APP", "-m MODULE", "python manage.py lazycron"):
        assert way in result.stderr


@pytest.mark.parametrize("command", [["status"], ["tick"], ["run", "greet"]])
def test_modules_without_a_state_dir_are_refused(command: list[str]) -> None:
    # The default directory is keyed by the working directory: a crontab (cwd $HOME)
    # would act on other state than the server's and run jobs again.
    result = lazycron_bare("-m", "tests.apps.clijobs", *command)
    assert result.returncode == 2
    assert "needs the state directory the server uses: pass --state-dir" in result.stderr
    assert lazycron_bare("-m", "tests.apps.clijobs", "list").returncode == 0


@pytest.mark.parametrize("command", [["tick"], ["run", "greet"]])
def test_an_unusable_state_dir_is_exit_2_with_a_message(tmp_path: Path, command: list[str]) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    result = lazycron_bare("-m", "tests.apps.clijobs", "--state-dir", str(a_file), *command)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"lazycron: state directory {a_file} cannot be used:" in result.stderr


def test_status_warns_about_a_directory_the_server_would_refuse(tmp_path: Path) -> None:
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    result = lazycron_bare("-m", "tests.apps.clijobs", "--state-dir", str(open_dir), "status")
    assert result.returncode == 0
    assert "warning: the server will not use this state" in result.stderr
    assert "world-writable" in result.stderr
    missing = lazycron_bare(
        "-m", "tests.apps.clijobs", "--state-dir", str(tmp_path / "x"), "status"
    )
    assert "does not exist: no process has run a job there" in missing.stderr
    assert not (tmp_path / "x").exists()


def test_status_shows_overdue_and_skipped_ticks(tmp_path: Path) -> None:
    registry, clock = Registry(), FakeClock()
    lazycron.job(every="5s", name="fast", registry=registry)(lambda: None)
    scheduler = Scheduler(registry, state_dir=tmp_path, clock=clock, check_interval=0)
    scheduler.tick()  # first sight
    clock.advance(60)  # 12 ticks pass with no check (default check_interval is 30 s)

    def row() -> list[str]:
        out = io.StringIO()
        assert execute(scheduler, "status", argparse.Namespace(json=False), out) == 0
        (line,) = [line for line in out.getvalue().splitlines() if line.startswith("fast")]
        return [cell.strip() for cell in line.split("  ") if cell.strip()]

    assert row()[2].endswith("(overdue)") and row()[3] == "never"
    scheduler.tick()
    cells = row()
    assert not cells[2].endswith("(overdue)")
    assert cells[6] == "ok" and cells[9] == "11"  # 11 earlier ticks coalesced into this run
