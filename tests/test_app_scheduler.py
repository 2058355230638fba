"""``lazycron --app``: the CLI acts on the state the server really uses, whichever
documented way the middleware was installed, and refuses when it cannot find it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = ROOT / "examples" / "django_site"


def lazycron(
    *args: str, state: Path | None, log: Path, cwd: Path = ROOT, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"LAZYCRON_STATE_DIR", "CLIAPP_STATE"}}
    if state is not None:
        env["CLIAPP_STATE"] = str(state)
    env["CLI_LOG"] = str(log)
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "lazycron", *args],
        cwd=cwd,
        env={**env, **(extra or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


INSTALLED_WAYS = [
    "tests.apps.cliapps.flask_wrapped:app",  # app.wsgi_app = LazyCronMiddleware(app.wsgi_app)
    "tests.apps.cliapps.flask_wrapped:app.wsgi_app",  # a dotted attribute path
    "tests.apps.cliapps.flask_extension:app",  # app.extensions["lazycron"].scheduler
    "tests.apps.cliapps.fastapi_added:app",  # app.add_middleware(LazyCronMiddleware)
    "tests.apps.cliapps.starlette_wrapped:application",  # a plain wrap
    "tests.apps.cliapps.starlette_wrapped",  # the default attribute, `application`
]


@pytest.mark.parametrize("app", INSTALLED_WAYS)
def test_the_cli_finds_the_state_the_app_uses(app: str, tmp_path: Path) -> None:
    state, log = tmp_path / "server-state", tmp_path / "log"
    status = lazycron("--app", app, "--json", "status", state=state, log=log)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["state_dir"] == str(state)

    ran = lazycron("--app", app, "run", "tick5", state=state, log=log)
    assert ran.returncode == 0, ran.stderr
    assert log.read_text() == "tick5\n"
    assert any(state.glob("tick5-*.json"))  # the run is recorded where the server looks


def test_an_app_without_lazycron_is_refused_with_how_to_point_at_it(tmp_path: Path) -> None:
    for command in (["status"], ["run", "tick5"], ["tick"]):
        result = lazycron(
            "--app", "tests.apps.cliapps.flask_plain:app", *command, state=None, log=tmp_path
        )
        assert result.returncode == 2
        assert "found no lazycron scheduler in tests.apps.cliapps.flask_plain:app" in (
            result.stderr
        )
        assert "app.wsgi_app = LazyCronMiddleware(app.wsgi_app" in result.stderr
        assert "app.add_middleware(LazyCronMiddleware" in result.stderr
        assert result.stdout == ""


def test_a_missing_attribute_path_names_the_missing_part(tmp_path: Path) -> None:
    result = lazycron(
        "--app", "tests.apps.cliapps.flask_wrapped:app.nope", "status", state=None, log=tmp_path
    )
    assert result.returncode == 2
    assert "has no attribute 'nope'" in result.stderr


def test_run_and_tick_refuse_an_app_whose_state_is_a_working_directory_guess(
    tmp_path: Path,
) -> None:
    # No state_dir=: the server's directory depends on the server's working directory.
    app = "tests.apps.cliapps.flask_wrapped:app"
    for command in (["run", "tick5"], ["tick"]):
        result = lazycron("--app", app, *command, state=None, log=tmp_path / "log")
        assert result.returncode == 2
        assert "sets no state_dir=" in result.stderr and "--state-dir" in result.stderr
    assert not (tmp_path / "log").exists()
    status = lazycron("--app", app, "status", state=None, log=tmp_path / "log")
    assert status.returncode == 0 and "warning: " in status.stderr
    state = tmp_path / "explicit"
    run = lazycron(
        "--app", app, "--state-dir", str(state), "run", "tick5", state=None, log=tmp_path / "log"
    )
    assert run.returncode == 0, run.stderr
    assert any(state.glob("tick5-*.json"))


def test_a_state_dir_that_disagrees_with_the_app_is_refused(tmp_path: Path) -> None:
    result = lazycron(
        "--app",
        "tests.apps.cliapps.fastapi_added:app",
        "--state-dir",
        str(tmp_path / "other"),
        "tick",
        state=tmp_path / "server",
        log=tmp_path / "log",
    )
    assert result.returncode == 2
    assert f"keeps its state in {tmp_path / 'server'}, not in {tmp_path / 'other'}" in (
        result.stderr
    )


def test_a_django_project_through_its_wsgi_module(tmp_path: Path) -> None:
    result = lazycron(
        "--app",
        "demo.wsgi:application",
        "--json",
        "status",
        state=None,
        log=tmp_path / "log",
        cwd=EXAMPLE_SITE,
        extra={
            "DEMO_VAR": str(tmp_path / "var"),
            "PYTHONPATH": str(EXAMPLE_SITE),
            "DJANGO_SETTINGS_MODULE": "demo.settings",
        },
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["state_dir"] == str(tmp_path / "var" / "lazycron")
    assert data["jobs"]
