"""The Flask extension: ``LazyCron(app)`` or ``LazyCron().init_app(app)``.

It reads ``app.config["LAZYCRON_*"]``, builds a :class:`lazycron.Scheduler`, wraps
``app.wsgi_app`` in the WSGI middleware and registers ``flask lazycron
list|status|run NAME|tick``. It stores itself at ``app.extensions["lazycron"]``; its
``scheduler`` attribute is the scheduler that app's middleware uses, which is how
``lazycron --app`` finds the state a running server uses.

Flask is an optional dependency (``pip install "lazycron[flask]"``): only this module
imports it, and ``import lazycron`` never does.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import sys
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

try:
    import click
    from flask import Flask, current_app, has_app_context
    from flask.cli import AppGroup
except ImportError as exc:  # pragma: no cover - tested in a subprocess without Flask
    raise ImportError(
        f'lazycron.flask needs Flask ({exc}); install it with: pip install "lazycron[flask]"'
    ) from exc

from .backends import Backend
from .backends.open import REDIS_SCHEMES
from .cli import execute
from .clock import Clock
from .errors import ConfigurationError, JobDefinitionError
from .jobs import Registry
from .scheduler import DEFAULT_CHECK_INTERVAL, Scheduler
from .schedules import parse_interval, resolve_timezone
from .wsgi import LazyCronMiddleware

__all__ = ["CONFIG_KEYS", "LazyCron", "get_scheduler"]

EXTENSION_KEY = "lazycron"

# Every accepted app.config key, with what it must be (for messages).
CONFIG_KEYS = {
    "LAZYCRON_STATE_DIR": "a path (str or pathlib.Path)",
    "LAZYCRON_BACKEND": "a redis:// or rediss:// URL (job records shared by several hosts)",
    "LAZYCRON_CHECK_INTERVAL": 'seconds (a number >= 0) or a duration such as "30s"',
    "LAZYCRON_TIMEZONE": 'an IANA zone name such as "Europe/Berlin"',
    "LAZYCRON_HISTORY_LIMIT": "an integer >= 1",
    "LAZYCRON_ENABLED": "True or False",
}


@dataclass(frozen=True)
class FlaskSettings:
    """``app.config["LAZYCRON_*"]``, validated, with defaults applied."""

    state_dir: Path
    backend: str | None = None  # a shared store's URL; None: files in state_dir
    check_interval: float = DEFAULT_CHECK_INTERVAL
    timezone: str = "UTC"
    history_limit: int = 50
    enabled: bool = True


def read_config(app: Flask) -> FlaskSettings:
    """The extension's settings from ``app.config``; raises :class:`ConfigurationError`
    listing every problem (unknown keys, with a suggestion, and bad values)."""
    config: Mapping[str, Any] = app.config
    problems = [
        _unknown(key) for key in config if key.startswith("LAZYCRON_") and key not in CONFIG_KEYS
    ]
    values: dict[str, Any] = {"state_dir": default_state_dir(app)}
    for key, expected in CONFIG_KEYS.items():
        value = config.get(key)
        if value is None:
            continue
        try:
            values[key.removeprefix("LAZYCRON_").lower()] = _convert(key, value)
        except (TypeError, ValueError, JobDefinitionError):
            problems.append(f'app.config["{key}"] = {value!r}: must be {expected}')
    if problems:
        raise ConfigurationError("lazycron: " + "; ".join(problems))
    return FlaskSettings(**values)


def default_state_dir(app: Flask) -> Path:
    """``$LAZYCRON_STATE_DIR`` if set, else ``<instance folder>/lazycron``.

    The instance folder is where a Flask app keeps its own files (Flask-SQLAlchemy puts a
    SQLite database there). It does not depend on the working directory, so the server's
    workers and ``flask lazycron`` agree wherever each is started from.
    """
    if env := os.environ.get("LAZYCRON_STATE_DIR"):
        return Path(env)
    return Path(app.instance_path) / "lazycron"


def _unknown(key: str) -> str:
    message = f'app.config has an unknown key "{key}"'
    close = difflib.get_close_matches(key.upper(), CONFIG_KEYS, n=1, cutoff=0.6)
    if close:
        return f'{message}; did you mean "{close[0]}"?'
    return f"{message}; valid keys are {', '.join(CONFIG_KEYS)}"


def _convert(key: str, value: object) -> Any:
    """The value in the Scheduler's terms; raises TypeError or ValueError when it is bad."""
    if key == "LAZYCRON_STATE_DIR":
        if not isinstance(value, str | os.PathLike):
            raise TypeError(key)
        return Path(value)
    if key == "LAZYCRON_BACKEND":
        if not isinstance(value, str) or not value.lower().startswith(REDIS_SCHEMES):
            raise ValueError(key)
        return value
    if key == "LAZYCRON_CHECK_INTERVAL":
        return _seconds(value)
    if key == "LAZYCRON_TIMEZONE":
        resolve_timezone(value)  # refused here, so that the message names the key
        return value
    if key == "LAZYCRON_HISTORY_LIMIT":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(key)
        return value
    if not isinstance(value, bool):  # ENABLED: a bool, not a truthy string such as "false"
        raise TypeError(key)
    return value


def _seconds(value: object) -> float:
    """0, or any duration ``every=`` accepts: 30, 2.5, "30s", "1m30s", a timedelta."""
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        value = float(value)  # "30", from an environment variable, means seconds
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return 0.0  # "look whenever a job may be due": not a valid every=, a valid interval
    if isinstance(value, str) and value.strip().lower() == "0s":
        return 0.0
    if not isinstance(value, int | float | str | timedelta):
        raise TypeError(value)
    return parse_interval(value, option="LAZYCRON_CHECK_INTERVAL").seconds


class LazyCron:
    """The Flask extension. Either ``LazyCron(app)``, or, with an application factory::

        cron = LazyCron()

        def create_app():
            app = Flask(__name__)
            app.config["LAZYCRON_CHECK_INTERVAL"] = "5s"
            cron.init_app(app)
            return app

    Settings come from ``app.config`` (see :data:`CONFIG_KEYS`); the keyword arguments
    are the Scheduler's that are objects rather than settings: ``registry=`` (default:
    the jobs ``@lazycron.job`` declares), ``backend=`` (instead of a state directory) and
    ``clock=`` (for tests).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        registry: Registry | None = None,
        backend: Backend | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.registry = registry
        self.backend = backend
        self.clock = clock
        # One scheduler per app: an application factory may create several apps (tests
        # do) from one module-level extension, each with its own config.
        self._schedulers: weakref.WeakKeyDictionary[Flask, Scheduler] = weakref.WeakKeyDictionary()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Build ``app``'s scheduler from its config, wrap ``app.wsgi_app`` (unless
        ``LAZYCRON_ENABLED`` is False) and add the ``flask lazycron`` commands.

        Raises :class:`lazycron.ConfigurationError` for a bad ``LAZYCRON_*`` key or value.
        """
        if EXTENSION_KEY in app.extensions:
            raise ConfigurationError(
                "lazycron: init_app() was already called for this app; call it once "
                "(LazyCron(app) calls it for you)"
            )
        settings = read_config(app)
        options: dict[str, Any] = {
            "registry": self.registry,
            "check_interval": settings.check_interval,
            "timezone": settings.timezone,
            "history_limit": settings.history_limit,
            "clock": self.clock,
        }
        if self.backend is not None:
            options["backend"] = self.backend
        elif settings.backend is not None:
            options["backend"] = settings.backend
        else:
            options["state_dir"] = settings.state_dir
        scheduler = Scheduler(**options)
        self._schedulers[app] = scheduler
        app.extensions[EXTENSION_KEY] = self
        if settings.enabled:  # like Django's ENABLED: only the middleware; the CLI works
            app.wsgi_app = LazyCronMiddleware(  # type: ignore[method-assign]
                app.wsgi_app, scheduler=scheduler
            )
        app.cli.add_command(cli)

    @property
    def scheduler(self) -> Scheduler:
        """The scheduler of the current app, or of the only app this extension serves."""
        if has_app_context():
            app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
            if app in self._schedulers:
                return self._schedulers[app]
        apps = list(self._schedulers.items())
        if len(apps) == 1:
            return apps[0][1]
        raise RuntimeError(
            f"this LazyCron serves {len(apps)} apps; use lazycron.flask.get_scheduler(app), "
            "or ask inside an app context"
            if apps
            else "this LazyCron has no app yet; call init_app(app) first"
        )

    def scheduler_for(self, app: Flask) -> Scheduler:
        """The scheduler that ``app``'s middleware uses."""
        try:
            return self._schedulers[app]
        except KeyError:
            raise RuntimeError(f"init_app() was not called for {app!r}") from None


def get_scheduler(app: Flask | None = None) -> Scheduler:
    """The scheduler of ``app`` (default: the current app), set up by :class:`LazyCron`."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    extension = app.extensions.get(EXTENSION_KEY)
    if not isinstance(extension, LazyCron):
        raise RuntimeError(
            f"lazycron is not set up on {app!r}; call lazycron.flask.LazyCron(app) "
            "or LazyCron().init_app(app)"
        )
    return extension.scheduler_for(app)


# --------------------------------------------------------------------------- the commands

cli = AppGroup("lazycron", help="Inspect and run lazycron jobs: list, status, run NAME, tick.")


def _run_command(command: str, as_json: bool, verbose: bool, **extra: Any) -> None:
    """Hand the command to lazycron's own CLI, with the current app's scheduler."""
    if verbose and not logging.getLogger("lazycron").handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logging.getLogger("lazycron").addHandler(handler)
        logging.getLogger("lazycron").setLevel(logging.DEBUG)
    namespace = argparse.Namespace(command=command, json=as_json, **extra)
    status = execute(get_scheduler(), command, namespace, sys.stdout)
    sys.stdout.flush()
    if status:
        raise click.exceptions.Exit(status)


_json = click.option("--json", "as_json", is_flag=True, help="machine-readable output")
_verbose = click.option("-v", "--verbose", is_flag=True, help="log what happens")


@cli.command("list")
@_json
def list_command(as_json: bool) -> None:
    """The declared jobs and their schedules."""
    _run_command("list", as_json, False)


@cli.command("status")
@_json
def status_command(as_json: bool) -> None:
    """Next tick, last run, outcome, duration, lateness."""
    _run_command("status", as_json, False)


@cli.command("run")
@click.argument("name")
@_json
@_verbose
def run_command(name: str, as_json: bool, verbose: bool) -> None:
    """Run one job now, under its lock (exit 3 if it is running elsewhere)."""
    _run_command("run", as_json, verbose, name=name)


@cli.command("tick")
@_json
@_verbose
def tick_command(as_json: bool, verbose: bool) -> None:
    """Run whatever is due now (for a system crontab)."""
    _run_command("tick", as_json, verbose)
