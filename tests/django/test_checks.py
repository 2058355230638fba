"""Every system check id fires for its bad input. Declaration errors are checked in a
fresh interpreter, since they happen when Django starts."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

from django.core.checks import run_checks
from django.test import override_settings

import lazycron
from lazycron.django import checks
from lazycron.django.checks import check_jobs

from .helpers import run_django

CHECK = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('check')"
)


def ids(tag: str = "lazycron") -> list[str | None]:
    return [message.id for message in run_checks(tags=[tag])]


def test_the_test_site_is_clean() -> None:
    assert ids() == []


def test_e001_bad_cron_expression_in_cron_py() -> None:
    result = run_django(CHECK, extra_apps="tests.django.badapps.badexpr")
    assert result.returncode == 1, result.stderr
    assert "tests.django.badapps.badexpr.cron: (lazycron.E001) job 'badexpr.job'" in result.stderr
    assert "61 * * * *" in result.stderr
    assert "field 1 (minute) '61' is out of range 0-59" in result.stderr


def test_e001_schedule_that_cannot_be_computed() -> None:
    class Broken:
        def next_after(self, reference: float, zone: object, anchor: float) -> float:
            raise ValueError("no such day")

        def describe(self) -> str:
            return "31 2 *"

    job = lazycron.Job(name="impossible", func=lambda: None, schedule=Broken())  # type: ignore[arg-type]
    lazycron.default_registry.add(job)
    try:
        messages = check_jobs()
    finally:
        lazycron.default_registry.remove("impossible")
    assert [m.id for m in messages] == ["lazycron.E001"]
    assert "no such day" in messages[0].msg


def test_e002_state_dir_unusable(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    with override_settings(LAZYCRON={"STATE_DIR": a_file / "state"}):
        assert ids() == ["lazycron.E002"]
    with override_settings(LAZYCRON={"STATE_DIR": a_file}):
        assert ids() == ["lazycron.E002"]
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    with override_settings(LAZYCRON={"STATE_DIR": open_dir}):
        messages = run_checks(tags=["lazycron"])
        assert [m.id for m in messages] == ["lazycron.E002"]
        assert "world-writable" in messages[0].msg


def test_e002_missing_but_creatable_is_fine(tmp_path: Path) -> None:
    with override_settings(LAZYCRON={"STATE_DIR": tmp_path / "a" / "b"}):
        assert ids() == []
    assert list(tmp_path.iterdir()) == []  # a check leaves nothing behind


def test_e002_tries_instead_of_trusting_os_access(tmp_path: Path) -> None:
    # Under root (containers often run checks as root) os.access("/proc", W_OK) is True,
    # yet nothing can be created there: the server would fail where the check passed.
    with override_settings(LAZYCRON={"STATE_DIR": "/proc/lazycron-e002/state"}):
        messages = run_checks(tags=["lazycron"])
    assert [m.id for m in messages] == ["lazycron.E002"]
    assert "/proc/lazycron-e002/state does not exist and cannot be created" in messages[0].msg
    existing = tmp_path / "state"
    existing.mkdir(mode=0o700)
    with override_settings(LAZYCRON={"STATE_DIR": existing}):
        assert ids() == []
    assert list(existing.iterdir()) == []  # the probe file is gone


def test_e002_unwritable_parent(tmp_path: Path) -> None:
    def check() -> list[str | None]:
        with override_settings(LAZYCRON={"STATE_DIR": tmp_path / "state"}):
            return ids()

    tmp_path.chmod(0o500)
    try:
        if os.geteuid() != 0:
            assert check() == ["lazycron.E002"]
            return
        # Root writes anywhere (and CI runs as root): check as "nobody" in a child.
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through its exit code
            try:
                os.setgid(65534)
                os.setuid(65534)
                os._exit(0 if check() == ["lazycron.E002"] else 1)
            except BaseException:
                os._exit(2)  # the check raised instead of reporting
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        tmp_path.chmod(0o700)


def test_e003_unknown_and_invalid_keys() -> None:
    with override_settings(LAZYCRON={"CHEK_INTERVAL": 5, "HISTORY_LIMIT": "many"}):
        messages = run_checks(tags=["lazycron"])
    assert [m.id for m in messages] == ["lazycron.E003", "lazycron.E003"]
    assert "did you mean 'CHECK_INTERVAL'?" in messages[0].msg


def test_e004_duplicate_job_names() -> None:
    apps = "tests.django.badapps.dup_one,tests.django.badapps.dup_two"
    result = run_django(CHECK, extra_apps=apps)
    assert result.returncode == 1, result.stderr
    assert "(lazycron.E004) duplicate job name 'report'" in result.stderr
    assert "HINT: Give one of them name='...'." in result.stderr


def test_w001_jobs_without_the_middleware() -> None:
    with override_settings(MIDDLEWARE=[]):
        assert ids() == ["lazycron.W001"]


def test_checks_run_under_manage_py_check_with_their_ids() -> None:
    result = run_django(CHECK, env={"DJANGO_SETTINGS_MODULE": "tests.django.settings"})
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_w010_check_interval_longer_than_a_jobs_interval() -> None:
    registry = lazycron.Registry()
    lazycron.job(every="5s", name="often", registry=registry)(lambda: None)
    lazycron.job("* * * * *", name="cron", registry=registry)(lambda: None)
    with mock.patch.object(checks, "default_registry", registry):
        with override_settings(LAZYCRON={"CHECK_INTERVAL": "30s"}):
            warned = [m for m in run_checks(tags=["lazycron"]) if m.id == "lazycron.W010"]
        with override_settings(LAZYCRON={"CHECK_INTERVAL": "5s"}):
            assert not [m for m in run_checks(tags=["lazycron"]) if m.id == "lazycron.W010"]
    assert [m.obj for m in warned] == ["often"]
    assert "declared every 5s but CHECK_INTERVAL is 30s" in warned[0].msg
