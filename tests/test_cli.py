"""The ``lazycron`` command: list, status, run NAME, tick, with and without --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_status_before_and_after_runs(cli: Cli) -> None:
    assert "(not seen yet)" in cli("status")
    cli("run", "greet")
    cli("run", "nightly", expect=1)
    text = cli("status")
    header, *lines = text.splitlines()[1:]
    assert header.split() == [
        "JOB",
        "SCHEDULE",
        "NEXT",
        "TICK",
        "LAST",
        "TICK",
        "OUTCOME",
        "DURATION",
        "LATENESS",
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
