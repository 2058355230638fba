"""``manage.py lazycron``: the CLI's commands, with the project's settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from lazycron.backends import default_state_dir
from lazycron.django import runtime

from .helpers import REPO


@pytest.fixture(autouse=True)
def state(tmp_path: Path):
    with override_settings(LAZYCRON={"STATE_DIR": tmp_path / "state", "ENABLED": False}):
        yield tmp_path / "state"
    runtime.reset()


def run(*args: str) -> str:
    out = StringIO()
    call_command("lazycron", *args, stdout=out)
    return out.getvalue()


def test_list_shows_autodiscovered_jobs_in_settings_time_zone() -> None:
    lines = run("list").splitlines()
    assert lines[0].split() == ["JOB", "SCHEDULE", "ZONE", "FUNCTION"]
    assert "" not in lines  # Django's OutputWrapper must not double the CLI's newlines
    nightly = next(line for line in lines if line.startswith("testapp.nightly"))
    assert "cron 0 3 * * *" in nightly or "0 3 * * *" in nightly
    assert "Europe/Berlin" in nightly
    assert "UTC" in next(line for line in lines if line.startswith("testapp.utc"))


def test_list_next_reads_cron_in_settings_time_zone() -> None:
    rows = {r["name"]: r for r in json.loads(run("--json", "list", "--next", "2"))}
    nightly = rows["testapp.nightly"]["next"]
    assert len(nightly) == 2 and all(
        t.endswith(("T01:00:00+00:00", "T02:00:00+00:00")) for t in nightly
    )


def test_status_uses_the_state_dir_from_settings(state: Path) -> None:
    out = run("status")
    assert out.splitlines()[0] == f"state: {state}"
    assert "(not seen yet)" in out


def test_run_runs_a_job_now_through_the_orm() -> None:
    from tests.django.testapp.models import Note

    before = Note.objects.filter(text="nightly").count()
    out = run("run", "testapp.nightly")
    assert out.startswith("testapp.nightly: ok in ")
    assert Note.objects.filter(text="nightly").count() == before + 1
    assert json.loads(run("--json", "status"))["jobs"][0]["last_run"]["trigger"] == "manual"


def test_run_unknown_job_is_a_command_error() -> None:
    with pytest.raises(CommandError) as info:
        run("run", "nope")
    assert info.value.returncode == 2


def test_tick_records_first_sight_and_runs_nothing() -> None:
    assert run("tick") == "nothing was due\n"
    assert "(not seen yet)" not in run("status")


def test_the_default_state_dir_does_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crontab runs `manage.py lazycron tick` from $HOME; the server runs from the
    # project. Without STATE_DIR both must still find the same state.
    seen = set()
    for cwd in (tmp_path / "project", tmp_path / "home"):
        cwd.mkdir()
        env = {k: v for k, v in os.environ.items() if k != "LAZYCRON_STATE_DIR"}
        result = subprocess.run(
            [sys.executable, "-m", "django", "lazycron", "--json", "status"],
            cwd=cwd,
            env={
                **env,
                "DJANGO_SETTINGS_MODULE": "tests.django.nostate_settings",
                "PYTHONPATH": str(REPO),
                "XDG_STATE_HOME": str(tmp_path / "xdg"),
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        seen.add(json.loads(result.stdout)["state_dir"])
    (state_dir,) = seen
    # keyed by the project (the directory holding the settings package), under XDG; the
    # directory's name is slugged, so a checkout in "tmp.x1y2" is named "tmp_x1y2-<hash>"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LAZYCRON_STATE_DIR", raising=False)
    assert state_dir == str(default_state_dir(str(REPO)))
    assert Path(state_dir).parent == tmp_path / "xdg" / "lazycron"


@pytest.mark.parametrize("command", [["tick"], ["run", "testapp.nightly"]])
def test_an_unusable_state_dir_is_exit_2_with_a_message(tmp_path: Path, command: list[str]) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("")
    err = StringIO()
    with (
        override_settings(LAZYCRON={"STATE_DIR": a_file, "ENABLED": False}),
        pytest.raises(CommandError) as info,
    ):
        call_command("lazycron", *command, stdout=StringIO(), stderr=err)
    assert info.value.returncode == 2
    assert f"lazycron: state directory {a_file} cannot be used" in err.getvalue()


def test_pause_and_resume_through_manage_py() -> None:
    assert run("pause", "testapp.nightly", "--by", "dana").startswith(
        "testapp.nightly: paused since "
    )
    rows = {r["name"]: r for r in json.loads(run("--json", "status"))["jobs"]}
    assert rows["testapp.nightly"]["paused"]["by"] == "dana"
    assert "resumed; next tick" in run("resume", "testapp.nightly")
    rows = {r["name"]: r for r in json.loads(run("--json", "status"))["jobs"]}
    assert rows["testapp.nightly"]["paused"] is None


def test_status_check_through_manage_py_exits_with_the_verdict() -> None:
    with pytest.raises(CommandError) as unseen:
        run("status", "--check")
    assert unseen.value.returncode == 3
    run("run", "testapp.nightly")
    run("run", "testapp.utc")
    report = json.loads(run("--json", "status", "--check"))
    assert report["status"] == "OK" and {j["status"] for j in report["jobs"]} == {"OK"}


def test_why_through_manage_py() -> None:
    assert "no process has seen it yet" in run("why", "testapp.nightly")
    run("pause", "testapp.nightly", "--by", "frank")
    assert json.loads(run("--json", "why", "testapp.nightly"))["reason"] == "paused"
