"""The Flask extension: ``LazyCron(app)`` / ``init_app``, ``app.config["LAZYCRON_*"]``, the
``flask lazycron`` commands, and a core that imports without Flask."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

pytest.importorskip("flask")  # in the test extra; the core must not need it

from flask import Flask

import lazycron
from lazycron import ConfigurationError, Registry, Scheduler
from lazycron.flask import LazyCron, get_scheduler
from lazycron.testing import FakeClock
from lazycron.wsgi import LazyCronMiddleware


def make_app(tmp_path: Path, **config: object) -> Flask:
    app = Flask("site", instance_path=str(tmp_path / "instance"))
    app.config.update({"LAZYCRON_CHECK_INTERVAL": 0, **config})

    @app.get("/")
    def index() -> str:
        return "hello"

    return app


@pytest.fixture
def runs(registry: Registry) -> list[str]:
    seen: list[str] = []
    lazycron.job(every="1m", name="minutely", registry=registry)(lambda: seen.append("ran"))
    return seen


def serve(app: Flask, scheduler: Scheduler) -> None:
    """One request through the app (closed, as a server closes it: that is where the WSGI
    middleware checks), then wait for what its check started."""
    with app.test_client().get("/") as response:
        assert response.status_code == 200
    assert scheduler.wait_idle(10)


class TestExtension:
    def test_lazy_cron_app_runs_jobs_after_requests(
        self, tmp_path: Path, registry: Registry, clock: FakeClock, runs: list[str]
    ) -> None:
        app = make_app(tmp_path)
        cron = LazyCron(app, registry=registry, clock=clock)
        serve(app, cron.scheduler)  # first sight: nothing runs
        clock.advance(60)
        serve(app, cron.scheduler)
        assert runs == ["ran"]
        assert isinstance(app.wsgi_app, LazyCronMiddleware)

    def test_init_app_with_an_application_factory(
        self, tmp_path: Path, registry: Registry, clock: FakeClock, runs: list[str]
    ) -> None:
        cron = LazyCron(registry=registry, clock=clock)

        def create_app() -> Flask:
            app = make_app(tmp_path, LAZYCRON_STATE_DIR=tmp_path / "state")
            cron.init_app(app)
            return app

        app = create_app()
        scheduler = app.extensions["lazycron"].scheduler  # what `lazycron --app` reads
        assert isinstance(scheduler, Scheduler)
        assert app.extensions["lazycron"] is cron
        assert scheduler.backend.location == str(tmp_path / "state")
        serve(app, scheduler)
        clock.advance(60)
        serve(app, scheduler)
        assert runs == ["ran"]

    def test_each_app_of_one_extension_has_its_own_scheduler(self, tmp_path: Path) -> None:
        cron = LazyCron(registry=Registry())
        one = make_app(tmp_path, LAZYCRON_STATE_DIR=tmp_path / "one")
        two = make_app(tmp_path, LAZYCRON_STATE_DIR=tmp_path / "two")
        cron.init_app(one)
        cron.init_app(two)
        assert get_scheduler(one).backend.location == str(tmp_path / "one")
        assert get_scheduler(two).backend.location == str(tmp_path / "two")
        with two.app_context():
            assert cron.scheduler is get_scheduler(two)
        with pytest.raises(RuntimeError, match="serves 2 apps"):
            _ = cron.scheduler

    def test_init_app_twice_on_one_app_is_refused(self, tmp_path: Path) -> None:
        app = make_app(tmp_path)
        LazyCron(app, registry=Registry())
        with pytest.raises(ConfigurationError, match="already called"):
            LazyCron(registry=Registry()).init_app(app)

    def test_get_scheduler_names_the_fix_when_not_set_up(self, tmp_path: Path) -> None:
        with pytest.raises(RuntimeError, match=r"LazyCron\(app\)"):
            get_scheduler(make_app(tmp_path))


class TestConfig:
    def test_the_state_dir_defaults_to_the_instance_folder(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("LAZYCRON_STATE_DIR", raising=False)
        monkeypatch.chdir(tmp_path)  # not the cwd: the server and `flask` may differ there
        app = make_app(tmp_path / "site")
        cron = LazyCron(app, registry=Registry())
        assert cron.scheduler.backend.location == str(tmp_path / "site" / "instance" / "lazycron")

    def test_the_environment_variable_comes_before_the_instance_folder(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LAZYCRON_STATE_DIR", str(tmp_path / "from-env"))
        cron = LazyCron(make_app(tmp_path), registry=Registry())
        assert cron.scheduler.backend.location == str(tmp_path / "from-env")

    @pytest.mark.parametrize(
        ("value", "seconds"),
        [(0, 0.0), ("0", 0.0), (5, 5.0), (2.5, 2.5), ("30", 30.0), ("30s", 30.0),
         ("1m30s", 90.0), (timedelta(minutes=2), 120.0)],
    )  # fmt: skip
    def test_check_interval_takes_the_duration_forms_of_every(
        self, tmp_path: Path, value: object, seconds: float
    ) -> None:
        cron = LazyCron(make_app(tmp_path, LAZYCRON_CHECK_INTERVAL=value), registry=Registry())
        assert cron.scheduler.check_interval == seconds

    def test_the_other_settings_reach_the_scheduler(self, tmp_path: Path) -> None:
        app = make_app(
            tmp_path,
            LAZYCRON_TIMEZONE="Europe/Berlin",
            LAZYCRON_HISTORY_LIMIT=7,
            LAZYCRON_STATE_DIR=str(tmp_path / "s"),
        )
        registry = Registry()
        lazycron.job("0 3 * * *", name="nightly", registry=registry)(lambda: None)
        cron = LazyCron(app, registry=registry)
        result = app.test_cli_runner().invoke(args=["lazycron", "list", "--json"])
        assert json.loads(result.output)[0]["timezone"] == "Europe/Berlin"
        assert cron.scheduler.runner.history_limit == 7

    @pytest.mark.parametrize(
        ("config", "message"),
        [
            ({"LAZYCRON_CHECK_INTERVALL": 5}, 'did you mean "LAZYCRON_CHECK_INTERVAL"'),
            ({"LAZYCRON_CHECK_INTERVAL": "soon"}, 'app.config["LAZYCRON_CHECK_INTERVAL"]'),
            ({"LAZYCRON_CHECK_INTERVAL": -1}, "seconds"),
            ({"LAZYCRON_HISTORY_LIMIT": 0}, "an integer >= 1"),
            ({"LAZYCRON_ENABLED": "false"}, "True or False"),
            ({"LAZYCRON_STATE_DIR": 3}, "a path"),
        ],
    )
    def test_bad_config_is_refused_at_init_app_naming_the_key(
        self, tmp_path: Path, config: dict[str, object], message: str
    ) -> None:
        with pytest.raises(ConfigurationError, match=message.replace("[", r"\[")):
            LazyCron(make_app(tmp_path, **config), registry=Registry())

    def test_an_unknown_time_zone_is_refused_at_init_app(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match=r'"LAZYCRON_TIMEZONE"\] = .Mars/Olympus'):
            LazyCron(make_app(tmp_path, LAZYCRON_TIMEZONE="Mars/Olympus"), registry=Registry())

    def test_disabled_leaves_the_app_alone_and_the_commands_work(
        self, tmp_path: Path, registry: Registry, runs: list[str]
    ) -> None:
        app = make_app(tmp_path, LAZYCRON_ENABLED=False)
        wsgi_app = app.wsgi_app
        LazyCron(app, registry=registry)
        assert app.wsgi_app == wsgi_app
        result = app.test_cli_runner().invoke(args=["lazycron", "run", "minutely"])
        assert result.exit_code == 0, result.output
        assert runs == ["ran"]


class TestCommands:
    @pytest.fixture
    def app(self, tmp_path: Path, registry: Registry, clock: FakeClock) -> Iterator[Flask]:
        app = make_app(tmp_path, LAZYCRON_STATE_DIR=tmp_path / "state")
        lazycron.job(every="1m", name="minutely", registry=registry)(lambda: None)

        @lazycron.job(every="1h", name="broken", registry=registry)
        def broken() -> None:
            raise RuntimeError("the report server is down")

        cron = LazyCron(app, registry=registry, clock=clock)
        yield app
        assert cron.scheduler.wait_idle(10)

    def invoke(self, app: Flask, *args: str) -> tuple[int, str]:
        result = app.test_cli_runner().invoke(args=["lazycron", *args])
        return result.exit_code, result.stdout

    def test_list(self, app: Flask) -> None:
        code, output = self.invoke(app, "list")
        assert code == 0
        assert "minutely" in output and "every 1m" in output

    def test_status_shows_the_apps_state(self, app: Flask, tmp_path: Path) -> None:
        code, output = self.invoke(app, "status", "--json")
        assert code == 0
        assert json.loads(output)["state_dir"] == str(tmp_path / "state")

    def test_run_then_status(self, app: Flask) -> None:
        code, output = self.invoke(app, "run", "minutely")
        assert (code, output.split(":")[0]) == (0, "minutely")
        code, output = self.invoke(app, "status", "--json")
        minutely = next(j for j in json.loads(output)["jobs"] if j["name"] == "minutely")
        assert minutely["last_run"]["outcome"] == "ok"
        assert minutely["last_run"]["trigger"] == "manual"

    def test_run_a_failing_job_exits_1_with_its_error(self, app: Flask) -> None:
        code, output = self.invoke(app, "run", "broken")
        assert code == 1
        assert "the report server is down" in output

    def test_run_an_unknown_job_exits_2(self, app: Flask) -> None:
        code, _ = self.invoke(app, "run", "nope")
        assert code == 2

    def test_tick_runs_what_is_due(self, app: Flask, clock: FakeClock) -> None:
        assert self.invoke(app, "tick") == (0, "nothing was due\n")  # first sight
        clock.advance(60)
        code, output = self.invoke(app, "tick")
        assert code == 0
        assert output.startswith("minutely: ok")


def test_the_core_imports_without_flask() -> None:
    """Flask is an optional extra: everything but lazycron.flask imports without it, and
    lazycron.flask says what to install."""
    code = (
        "import sys; sys.modules['flask'] = None\n"
        "import lazycron, lazycron.wsgi, lazycron.asgi, lazycron.cli\n"
        "try:\n"
        "    import lazycron.flask\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert 'pip install "lazycron[flask]"' in result.stdout


def test_the_readme_quickstart_is_the_example_app() -> None:
    """The README's quickstart block is examples/flask_app/app.py: the app
    the integration tests serve."""
    root = Path(__file__).resolve().parents[1]
    example = (root / "examples/flask_app/app.py").read_text()
    assert f"```python\n{example}```" in (root / "README.md").read_text()
