"""The example apps (examples/flask_app, examples/fastapi_app) served as their READMEs say,
by gunicorn and uvicorn, and their commands run against the running server's state.

Each example is copied into a private directory first (its state lives next to it), and
the commands run from another directory than the server, as they would on a real host:
the server and the command must agree on the state without help from the environment.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.servers import REPO_ROOT, VENV_BIN, App, Server, get, require_module

EXAMPLES = REPO_ROOT / "examples"
RAN = "heartbeat: the job ran"
# The examples' job runs every 10 s, and is first seen on the first request.
RUN_TIMEOUT = 40.0


@pytest.fixture(autouse=True)
def no_state_dir_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAZYCRON_STATE_DIR", raising=False)
    monkeypatch.delenv("LAZYCRON_MODULES", raising=False)


def copy_example(name: str, shared_dir: Path) -> Path:
    site = shared_dir / name
    shutil.copytree(EXAMPLES / name, site, ignore=shutil.ignore_patterns("__pycache__", "var"))
    return site


def runs_logged(server: Server) -> int:
    return sum(path.read_text(errors="replace").count(RAN) for path in server.log_files())


def serve_until_the_job_ran(server: Server) -> None:
    """Requests every 0.2 s until the job has run once (by the server's log)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        assert get(server.base_url + "/").status == 200
        if runs_logged(server):
            time.sleep(0.5)  # its run record is written right after its log line
            return
        time.sleep(0.2)
    raise AssertionError(f"the example's job did not run within {RUN_TIMEOUT} s of traffic")


def command(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def job_status(output: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(j for j in json.loads(output)["jobs"] if j["name"] == name)
    return found


def test_flask_example_under_gunicorn_and_flask_lazycron_commands(shared_dir: Path) -> None:
    require_module("flask", "pip install flask  (or: pip install -e '.[test]')")
    site = copy_example("flask_app", shared_dir)
    elsewhere = shared_dir / "elsewhere"
    elsewhere.mkdir()
    flask = [str(VENV_BIN / "flask"), "--app", str(site / "app.py"), "lazycron"]

    with Server("gunicorn-sync", App(site / "app.py", "app"), workers=2) as server:
        serve_until_the_job_ran(server)

        status = command([*flask, "status", "--json"], elsewhere)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["state_dir"] == str(site / "instance" / "lazycron")
        heartbeat = job_status(status.stdout, "app.heartbeat")
        assert heartbeat["last_run"]["outcome"] == "ok"
        assert heartbeat["last_run"]["trigger"] == "schedule"  # the server's run, not ours

        table = command([*flask, "status"], elsewhere)
        assert table.returncode == 0, table.stderr
        assert "app.heartbeat" in table.stdout and "never" not in table.stdout

        listed = command([*flask, "list"], elsewhere)
        assert listed.returncode == 0, listed.stderr
        assert "app.heartbeat  every 10s" in listed.stdout

        ran = command([*flask, "run", "app.heartbeat"], elsewhere)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.startswith("app.heartbeat: ok")
        after = command([*flask, "status", "--json"], elsewhere)
        assert job_status(after.stdout, "app.heartbeat")["last_run"]["trigger"] == "manual"

        ticked = command([*flask, "tick"], elsewhere)
        assert ticked.returncode == 0, ticked.stderr


def test_fastapi_example_under_uvicorn_and_lazycron_app_status(shared_dir: Path) -> None:
    """``lazycron --app main:app`` must find the state of the scheduler that
    ``app.add_middleware(LazyCronMiddleware, ...)`` set up, not a guessed default."""
    require_module("fastapi", "pip install fastapi  (or: pip install -e '.[test]')")
    site = copy_example("fastapi_app", shared_dir)

    with Server("uvicorn", App(site / "main.py", "app"), workers=2) as server:
        serve_until_the_job_ran(server)

        status = command(
            [sys.executable, "-m", "lazycron", "--app", "main:app", "--json", "status"], site
        )
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["state_dir"] == str(site / "var" / "lazycron")
        heartbeat = job_status(status.stdout, "main.heartbeat")
        assert heartbeat["last_run"]["outcome"] == "ok"
        assert heartbeat["last_run"]["trigger"] == "schedule"
