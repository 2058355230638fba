"""Start real web servers on 127.0.0.1 for integration tests.

One call starts one server kind (gunicorn, uvicorn, uWSGI, waitress, Apache + mod_wsgi,
Apache + mod_python, lighttpd + flup) for one app file, on a free port, with a private
run directory holding its config, pid file and logs. The configs are rendered from the
examples in ``examples/deploy/``, so the tests exercise exactly what users copy::

    with Server("gunicorn-sync", App(path), env={"LAZYCRON_STATE_DIR": d}) as server:
        requests.get(server.base_url + "/")

Stopping sends the server's own "stop" signal, waits, then kills the whole process group
(each server runs in its own session), so no worker or job thread outlives a test. On any
failure the logs are printed, which pytest shows with the failing test.

Requirement rule (see :func:`require`): in CI (``CI=true``) a missing server binary or module
is a test failure, never a skip; locally the test is skipped with the exact install command.
"""

from __future__ import annotations

import contextlib
import grp
import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "examples" / "deploy"
APPS_DIR = Path(__file__).resolve().parent / "apps"

#: Debian's Python, the one that mod_wsgi, mod_python and Debian's uWSGI plugin embed.
SYSTEM_PYTHON = "/usr/bin/python3"
#: Where .ci/install-servers.sh puts croniter, filelock and flup for SYSTEM_PYTHON
#: (``/usr/bin/python3 -m pip install --target``). The pyenv/venv site-packages are not used.
EMBEDDED_SITE = Path(os.environ.get("LAZYCRON_EMBEDDED_SITE", "/opt/lazycron-py3-embedded"))
#: Apache refuses to serve as root; its children and mod_wsgi's daemons run as this user.
APACHE_USER = os.environ.get("LAZYCRON_APACHE_USER", "www-data")
APACHE_BIN = "/usr/sbin/apache2"
APACHE_MODULES = Path("/usr/lib/apache2/modules")
LIGHTTPD_BIN = "/usr/sbin/lighttpd"
DEBIAN_UWSGI_BIN = "/usr/bin/uwsgi"
VENV_BIN = Path(sys.executable).parent

INSTALL_SCRIPT_HINT = "bash .ci/install-servers.sh"


# --------------------------------------------------------------------------- requirements


def in_ci() -> bool:
    """True when running under CI, where a missing server must fail, not skip."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require(present: bool, what: str, install_hint: str) -> None:
    """Fail (in CI) or skip (locally) unless ``present``; the message says what to install."""
    if present:
        return
    message = f"{what} is not available; install it with: {install_hint}"
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def require_binary(name: str, install_hint: str) -> str:
    """Return the path of executable ``name`` (a bare name or an absolute path)."""
    path = shutil.which(name)
    require(path is not None, f"executable {name!r}", install_hint)
    assert path is not None
    return path


def require_file(path: Path, install_hint: str) -> None:
    require(path.exists(), f"file {path}", install_hint)


def require_module(name: str, install_hint: str) -> None:
    """Require a module importable by the Python running the tests (the venv)."""
    require(importlib.util.find_spec(name) is not None, f"Python module {name!r}", install_hint)


def require_system_modules(names: Sequence[str], install_hint: str) -> None:
    """Require modules importable by Debian's Python through EMBEDDED_SITE."""
    require_binary(SYSTEM_PYTHON, "apt-get install -y python3")
    code = "; ".join(f"import {name}" for name in names)
    result = subprocess.run(
        [SYSTEM_PYTHON, "-c", code],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(EMBEDDED_SITE)},
        capture_output=True,
        check=False,
    )
    require(
        result.returncode == 0,
        f"{', '.join(names)} for {SYSTEM_PYTHON} in {EMBEDDED_SITE}",
        install_hint,
    )


def require_user(name: str, install_hint: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        require(False, f"user {name!r}", install_hint)


# --------------------------------------------------------------------------- app + kinds


@dataclass(frozen=True)
class App:
    """A WSGI (or ASGI) callable defined in a Python file."""

    path: Path
    callable: str = "application"

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def module(self) -> str:
        return self.path.stem

    @property
    def ref(self) -> str:
        return f"{self.module}:{self.callable}"


@dataclass(frozen=True)
class ProcessSpec:
    """One process to start; servers made of two (lighttpd + flup) list both, backend first."""

    name: str
    argv: list[str]
    env: dict[str, str]
    stop_signal: signal.Signals = signal.SIGTERM
    #: A TCP port on 127.0.0.1 to wait for before the next process starts (a backend).
    listens_on: int | None = None


@dataclass
class LaunchContext:
    """What a kind's launcher gets: where to write, which port, what to run."""

    app: App
    run_dir: Path
    port: int
    env: dict[str, str]
    pythonpath: list[str]
    workers: int

    def render(self, template: str, values: Mapping[str, object], out_name: str = "") -> Path:
        """Fill the ``${...}`` placeholders of ``examples/deploy/<template>``."""
        text = string.Template((DEPLOY_DIR / template).read_text()).safe_substitute(
            {key: str(value) for key, value in values.items()}
        )
        left = sorted(set(re.findall(r"\$\{([A-Z_]+)\}", text)))
        if left:
            raise KeyError(f"{template}: no value for {', '.join(left)}")
        out = self.run_dir / (out_name or template)
        out.write_text(text)
        return out

    def venv_env(self, *extra_path: str) -> dict[str, str]:
        """Environment for a server run by the test venv's Python."""
        env = dict(self.env)
        path = [*extra_path, str(self.app.directory), *self.pythonpath]
        env["PYTHONPATH"] = os.pathsep.join(path)
        return env

    def system_env(self) -> dict[str, str]:
        """Environment for servers embedding Debian's Python: no venv variables leak in."""
        env = {k: v for k, v in self.env.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        return env

    @property
    def system_pythonpath(self) -> list[str]:
        return [str(self.app.directory), *self.pythonpath, str(EMBEDDED_SITE)]


Launcher = Callable[[LaunchContext], list[ProcessSpec]]


@dataclass(frozen=True)
class Kind:
    """A way to serve an app: how to check for it, how to start it, what to expect."""

    name: str
    launcher: Launcher
    requirements: Callable[[], None]
    workers: int
    #: More than one worker process serves requests (so several pids should show up).
    multiprocess: bool = True
    #: The app is an ASGI callable (uvicorn), not a WSGI one.
    asgi: bool = False
    #: Runs Debian's /usr/bin/python3, not the venv: pythonpath must hold every import.
    embedded_python: bool = False
    notes: str = ""
    #: Why a thread started from a request may never finish here (a known hazard), or "".
    threads_may_not_run: str = ""
    #: The app runs as another user (Apache's www-data), who may not be able to read a
    #: checkout in a private directory (CI's clone, a 0700 mktemp): stage the code.
    other_user: bool = False

    def check(self) -> None:
        self.requirements()


def _gunicorn(*variant: str) -> Launcher:
    def launch(ctx: LaunchContext) -> list[ProcessSpec]:
        argv = [
            sys.executable, "-m", "gunicorn",
            "--config", str(DEPLOY_DIR / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{ctx.port}",
            "--workers", str(ctx.workers),
            "--pid", str(ctx.run_dir / "gunicorn.pid"),
            "--chdir", str(ctx.app.directory),
            *variant,
            ctx.app.ref,
        ]  # fmt: skip
        return [ProcessSpec("gunicorn", argv, ctx.venv_env())]

    return launch


def _uvicorn(ctx: LaunchContext) -> list[ProcessSpec]:
    argv = [
        sys.executable, "-m", "uvicorn",
        "--host", "127.0.0.1",
        "--port", str(ctx.port),
        "--workers", str(ctx.workers),
        "--app-dir", str(ctx.app.directory),
        "--no-access-log",
        ctx.app.ref,
    ]  # fmt: skip
    return [ProcessSpec("uvicorn", argv, ctx.venv_env())]


def _waitress(ctx: LaunchContext) -> list[ProcessSpec]:
    argv = [
        sys.executable, "-m", "waitress",
        f"--listen=127.0.0.1:{ctx.port}",
        "--threads=8",
        ctx.app.ref,
    ]  # fmt: skip
    return [ProcessSpec("waitress", argv, ctx.venv_env())]


def _uwsgi(*, debian: bool, enable_threads: bool) -> Launcher:
    def launch(ctx: LaunchContext) -> list[ProcessSpec]:
        conf = ctx.render(
            "uwsgi.ini",
            {
                "BIND": f"127.0.0.1:{ctx.port}",
                "APP_DIR": ctx.app.directory,
                "APP_FILE": ctx.app.path,
                "CALLABLE": ctx.app.callable,
                "PROCESSES": ctx.workers,
                "ENABLE_THREADS": "true" if enable_threads else "false",
                "PID_FILE": ctx.run_dir / "uwsgi.pid",
            },
        )
        if debian:
            # Debian's uWSGI embeds /usr/bin/python3 through its python3 plugin.
            argv = [DEBIAN_UWSGI_BIN, "--plugin", "python3", "--ini", str(conf)]
            env = ctx.system_env()
            env["PYTHONPATH"] = os.pathsep.join(ctx.system_pythonpath)
        else:
            # pip's uWSGI embeds the Python it was built with (pyenv's); point it at the venv.
            argv = [str(VENV_BIN / "uwsgi"), "--ini", str(conf), "--virtualenv", sys.prefix]
            env = ctx.venv_env()
        return [ProcessSpec("uwsgi", argv, env, signal.SIGINT)]

    return launch


def _apache_values(ctx: LaunchContext) -> dict[str, object]:
    return {
        "SERVER_ROOT": ctx.run_dir,
        "LISTEN": f"127.0.0.1:{ctx.port}",
        "RUN_USER": APACHE_USER,
        "RUN_GROUP": grp.getgrgid(pwd.getpwnam(APACHE_USER).pw_gid).gr_name,
        "PROCESSES": ctx.workers,
        "APP_FILE": ctx.app.path,
        "APP_DIR": ctx.app.directory,
        "MODULE": ctx.app.module,
        "CALLABLE": ctx.app.callable,
    }


def _apache_mod_wsgi(ctx: LaunchContext) -> list[ProcessSpec]:
    values = _apache_values(ctx)
    values["THREADS"] = 4
    values["PYTHON_PATH"] = ":".join(ctx.system_pythonpath)
    conf = ctx.render("apache-mod_wsgi.conf", values, "httpd.conf")
    argv = [APACHE_BIN, "-f", str(conf), "-DFOREGROUND"]
    return [ProcessSpec("apache", argv, ctx.system_env())]


def _apache_mod_python(ctx: LaunchContext) -> list[ProcessSpec]:
    values = _apache_values(ctx)
    values["PYTHON_PATH_LIST"] = repr(ctx.system_pythonpath)
    conf = ctx.render("apache-mod_python.conf", values, "httpd.conf")
    argv = [APACHE_BIN, "-f", str(conf), "-DFOREGROUND"]
    return [ProcessSpec("apache", argv, ctx.system_env())]


def _lighttpd_flup(ctx: LaunchContext) -> list[ProcessSpec]:
    fcgi_port = free_port()
    flup = [
        sys.executable, str(DEPLOY_DIR / "flup_fcgi.py"),
        "--bind", f"127.0.0.1:{fcgi_port}",
        "--app", ctx.app.ref,
        "--app-dir", str(ctx.app.directory),
        "--children", str(ctx.workers),
    ]  # fmt: skip
    conf = ctx.render(
        "lighttpd-fastcgi.conf",
        {"SERVER_ROOT": ctx.run_dir, "PORT": ctx.port, "FCGI_PORT": fcgi_port},
    )
    lighttpd = [LIGHTTPD_BIN, "-D", "-f", str(conf)]
    return [
        # lighttpd backs off for a while from a backend it could not reach: start flup first.
        ProcessSpec("flup", flup, ctx.venv_env(), listens_on=fcgi_port),
        ProcessSpec("lighttpd", lighttpd, ctx.system_env(), signal.SIGINT),
    ]


# Requirement checks, each with the exact command that installs what is missing.


def _needs_gunicorn() -> None:
    require_module("gunicorn", "pip install gunicorn  (or: pip install --group test)")


def _needs_uvicorn() -> None:
    require_module("uvicorn", "pip install uvicorn  (or: pip install --group test)")


def _needs_waitress() -> None:
    require_module("waitress", "pip install waitress  (or: pip install --group test)")


def _needs_pip_uwsgi() -> None:
    require_binary(str(VENV_BIN / "uwsgi"), "pip install uwsgi  (builds from source: needs gcc)")


def _needs_debian_uwsgi() -> None:
    require_binary(DEBIAN_UWSGI_BIN, "apt-get install -y uwsgi uwsgi-plugin-python3")
    require_file(
        Path("/usr/lib/uwsgi/plugins/python3_plugin.so"),
        "apt-get install -y uwsgi-plugin-python3",
    )
    require_system_modules(["croniter", "filelock"], INSTALL_SCRIPT_HINT)


def _needs_apache(module_file: str, package: str) -> Callable[[], None]:
    def check() -> None:
        require_binary(APACHE_BIN, f"apt-get install -y apache2 {package}")
        require_file(APACHE_MODULES / module_file, f"apt-get install -y {package}")
        require_user(APACHE_USER, "apt-get install -y apache2  (creates www-data)")
        require_system_modules(["croniter", "filelock"], INSTALL_SCRIPT_HINT)

    return check


def _needs_lighttpd_flup() -> None:
    require_binary(LIGHTTPD_BIN, "apt-get install -y lighttpd")
    require_module("flup", "pip install flup")


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in [
        Kind("gunicorn-sync", _gunicorn(), _needs_gunicorn, workers=4),
        Kind(
            "gunicorn-gthread",
            _gunicorn("--worker-class", "gthread", "--threads", "4"),
            _needs_gunicorn,
            workers=2,
        ),
        Kind(
            "gunicorn-max-requests",
            _gunicorn("--max-requests", "20", "--max-requests-jitter", "5"),
            _needs_gunicorn,
            workers=2,
            notes="workers are recycled every 20-25 requests: many pids",
            threads_may_not_run="a recycled worker exits at once, killing its daemon threads",
        ),
        Kind("gunicorn-preload", _gunicorn("--preload"), _needs_gunicorn, workers=4),
        Kind("uvicorn", _uvicorn, _needs_uvicorn, workers=3, asgi=True),
        Kind(
            "uwsgi",
            _uwsgi(debian=False, enable_threads=True),
            _needs_pip_uwsgi,
            workers=4,
            notes="pip's uWSGI, built against the venv's Python",
        ),
        Kind(
            "uwsgi-no-threads",
            _uwsgi(debian=False, enable_threads=False),
            _needs_pip_uwsgi,
            workers=4,
        ),
        Kind(
            "uwsgi-debian",
            _uwsgi(debian=True, enable_threads=True),
            _needs_debian_uwsgi,
            workers=4,
            embedded_python=True,
        ),
        Kind(
            "uwsgi-debian-no-threads",
            _uwsgi(debian=True, enable_threads=False),
            _needs_debian_uwsgi,
            workers=4,
            embedded_python=True,
            threads_may_not_run="uWSGI 2.0.21 w/o enable-threads: threads move only in a request",
        ),
        Kind("waitress", _waitress, _needs_waitress, workers=1, multiprocess=False),
        Kind(
            "apache-mod_wsgi",
            _apache_mod_wsgi,
            _needs_apache("mod_wsgi.so", "libapache2-mod-wsgi-py3"),
            workers=4,
            embedded_python=True,
            other_user=True,
        ),
        Kind(
            "apache-mod_python",
            _apache_mod_python,
            _needs_apache("mod_python.so", "libapache2-mod-python"),
            workers=4,
            embedded_python=True,
            other_user=True,
        ),
        Kind("lighttpd-flup", _lighttpd_flup, _needs_lighttpd_flup, workers=4),
    ]
}


# --------------------------------------------------------------------------- running


def free_port() -> int:
    """A port that was free a moment ago: bind port 0, read it, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stage_code(run_dir: Path, app: App, pythonpath: list[str]) -> tuple[App, list[str]]:
    """Copy the checkout's ``lazycron`` and ``tests`` packages into the (world-readable)
    run directory, and point the app and the path entries that name the checkout there."""
    staged = run_dir / "checkout"
    for package in ("lazycron", "tests"):
        shutil.copytree(
            REPO_ROOT / package,
            staged / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    for path in [staged, *staged.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)

    def moved(path: Path) -> Path:
        return staged / path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path

    app = App(moved(app.path.resolve()), app.callable)
    return app, [str(moved(Path(p).resolve())) for p in pythonpath]


def make_shared_dir(prefix: str = "lazycron-it-") -> Path:
    """A directory every server user can write (Apache's children run as www-data).

    pytest's tmp_path sits under a 0700 directory, so servers that drop privileges could not
    reach it. This one lives in the system temp dir, mode 0777 (not sticky: filelock refuses
    lock files owned by another user in sticky directories). The caller removes it.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o777)
    return path


@dataclass
class _Running:
    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    output: IO[bytes]


@dataclass
class Server:
    """A real server for ``app``; use as a context manager. ``base_url`` once entered."""

    kind: Kind | str
    app: App
    env: Mapping[str, str] = field(default_factory=dict)
    pythonpath: Sequence[str | Path] = ()
    workers: int | None = None
    startup_timeout: float = 30.0
    stop_timeout: float = 15.0
    #: Polled until it answers (any status below 500) before the block runs.
    ready_path: str = "/ready"

    base_url: str = field(init=False, default="")
    run_dir: Path = field(init=False, default=Path())
    returncodes: dict[str, int | None] = field(init=False, default_factory=dict)
    _running: list[_Running] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.kind, str):
            self.kind = KINDS[self.kind]

    @property
    def spec(self) -> Kind:
        assert isinstance(self.kind, Kind)
        return self.kind

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.print_logs("startup failed")
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        clean = self.stop()
        if exc_type is not None or not clean:
            self.print_logs("test failed" if exc_type else "server did not stop cleanly")
        elif not os.environ.get("LAZYCRON_KEEP_RUN_DIR"):
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def start(self) -> None:
        kind = self.spec
        # Own directory in the system temp dir, 0755: Apache's unprivileged children must
        # reach mod_wsgi's socket and the mutex files in it (pytest's tmp_path is 0700).
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"lazycron-{kind.name}-"))
        self.run_dir.chmod(0o755)
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        app, pythonpath = self.app, [str(p) for p in self.pythonpath]
        if kind.other_user:
            app, pythonpath = _stage_code(self.run_dir, app, pythonpath)
        ctx = LaunchContext(
            app=app,
            run_dir=self.run_dir,
            port=port,
            env={**os.environ, **self.env},
            pythonpath=pythonpath,
            workers=self.workers or kind.workers,
        )
        for spec in kind.launcher(ctx):
            output = (self.run_dir / f"{spec.name}.out").open("wb")
            process = subprocess.Popen(
                spec.argv,
                env=spec.env,
                cwd=self.run_dir,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() can kill it whole
            )
            self._running.append(_Running(spec, process, output))
            if spec.listens_on is not None:
                self._wait_for_port(spec.listens_on)
        self._wait_until_ready()

    def _check_alive(self) -> None:
        for running in self._running:
            code = running.process.poll()
            if code is not None:
                raise RuntimeError(f"{running.spec.name} exited with {code} while starting")

    def _wait_for_port(self, port: int) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            time.sleep(0.05)
        raise TimeoutError(f"nothing listened on 127.0.0.1:{port} in {self.startup_timeout} s")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                url = self.base_url + self.ready_path
                with urllib.request.urlopen(url, timeout=5) as response:
                    response.read()
                    return
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return
                last_error = f"HTTP {error.code}"
            except (OSError, urllib.error.URLError) as error:
                last_error = repr(error)
            time.sleep(0.05)
        raise TimeoutError(
            f"{self.spec.name} did not answer at {self.base_url} within "
            f"{self.startup_timeout} s ({last_error})"
        )

    def stop(self) -> bool:
        """Stop every process (front end first); True if all stopped on their stop signal."""
        clean = True
        for running in reversed(self._running):
            process = running.process
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(running.spec.stop_signal)
                try:
                    process.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    clean = False
            # Workers, daemons and job threads go with the group, whatever the leader did.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            running.output.close()
            self.returncodes[running.spec.name] = process.returncode
        self._running = []
        return clean

    def log_files(self) -> Iterator[Path]:
        if self.run_dir.is_dir():
            for path in sorted(self.run_dir.iterdir()):
                if path.suffix in {".out", ".log"} and path.is_file():
                    yield path

    def print_logs(self, reason: str, max_lines: int = 200) -> None:
        print(f"===== {self.spec.name}: {reason}; logs in {self.run_dir} =====")
        for path in self.log_files():
            lines = path.read_text(errors="replace").splitlines()
            print(f"----- {path.name} ({len(lines)} lines, last {max_lines}) -----")
            print("\n".join(lines[-max_lines:]))


# --------------------------------------------------------------------------- traffic


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    seconds: float


def get(url: str, timeout: float = 10.0) -> Reply:
    """One GET on a fresh connection; HTTP errors are replies, not exceptions."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    return Reply(status, body, time.perf_counter() - started)


def fire(url: str, count: int = 200, concurrency: int = 8, timeout: float = 10.0) -> list[Reply]:
    """``count`` GETs of ``url`` from ``concurrency`` threads; bounded in count and time."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(lambda _: get(url, timeout), range(count)))
