"""Two "hosts": real servers that share nothing but a store (Redis, or PostgreSQL).

Each host is a gunicorn with 3 workers serving a copy of the site from a directory of its
own (its own working directory, no state directory in common), labelled by
``$LAZYCRON_HOST`` so that lazycron's records say which one ran a tick, and writing its
jobs' ``start``/``end`` lines to a log of its own. The tests judge lazycron by those
lines (tests/integration/proof.py reads them), merged across the hosts.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.proof import Hit, Run, drive, read_runs
from tests.integration.servers import KINDS, REPO_ROOT, App, Server, require

KIND = "gunicorn-sync"
WORKERS = 3
LEASE = 2.0  # short, so that a lost holder frees its job quickly
NAMES = ("host-a", "host-b")


@dataclass
class Host:
    name: str
    server: Server
    log: Path
    captured: str | None = None  # the server's log, kept when it stops (its dir goes)

    @property
    def url(self) -> str:
        return self.server.base_url

    def server_log(self) -> str:
        if self.captured is not None:
            return self.captured
        return "\n".join(p.read_text(errors="replace") for p in self.server.log_files())


@dataclass
class Fleet:
    hosts: list[Host]
    hits: list[Hit] = field(default_factory=list)

    def runs(self) -> list[tuple[str, Run]]:
        return [(host.name, run) for host in self.hosts for run in read_runs(host.log)]

    def runs_of(self, job: str) -> list[tuple[str, Run]]:
        return sorted((hr for hr in self.runs() if hr[1].job == job), key=lambda hr: hr[1].start)

    def duplicates(self, job: str) -> list[float]:
        counts = Counter(run.tick for _, run in self.runs_of(job))
        return sorted(tick for tick, n in counts.items() if n > 1)

    def overlaps(
        self, job: str, *, allowed: frozenset[int] | set[int] = frozenset()
    ) -> list[tuple[Run, Run]]:
        """Pairs of runs of ``job`` where one started before the other ended (on any host);
        runs by a pid in ``allowed`` (a process the test paused) are left out."""
        runs = [run for _, run in self.runs_of(job) if run.pid not in allowed]
        found = []
        for i, first in enumerate(runs):
            for second in runs[i + 1 :]:
                if first.end is not None and second.start < first.end:
                    found.append((first, second))
        return found

    def hosts_that_ran(self, job: str) -> set[str]:
        return {host for host, _ in self.runs_of(job)}

    def non_200(self) -> Counter[tuple[int, str]]:
        return Counter((h.status, h.error[:80]) for h in self.hits if h.status != 200)

    def drive(self, seconds: float, concurrency: int = 3) -> list[Hit]:
        """Load on every host at once, from ``concurrency`` clients each."""
        results: dict[str, list[Hit]] = {}

        def one(host: Host) -> None:
            results[host.name] = drive(host.url, seconds, concurrency=concurrency)

        threads = [threading.Thread(target=one, args=(host,)) for host in self.hosts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        hits = [hit for host in self.hosts for hit in results.get(host.name, [])]
        self.hits += hits
        return hits

    def wait_for_runs_to_end(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(run.end is not None or not _alive(run.pid) for _, run in self.runs()):
                return
            time.sleep(0.1)

    def log_lines(self, pattern: str) -> dict[int, list[str]]:
        """Per worker pid, the lazycron log lines matching ``pattern``."""
        found: dict[int, list[str]] = defaultdict(list)
        for host in self.hosts:
            for line in host.server_log().splitlines():
                match = re.match(r"\[lazycron pid (\d+)\] (\w+) (.*)", line)
                if match and re.search(pattern, match.group(3)):
                    found[int(match.group(1))].append(line)
        return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def host_dir(base: Path, name: str, site: Path, extra: tuple[Path, ...] = ()) -> App:
    """A copy of ``site`` in a directory of the host's own (its working directory)."""
    home = base / name
    home.mkdir(mode=0o755)
    for path in (site, *extra):
        shutil.copy(path, home / path.name)
    return App(home / site.name, "application")


@contextlib.contextmanager
def fleet(
    base: Path,
    site: Path,
    env: Mapping[str, str],
    *,
    per_host: Mapping[str, Mapping[str, str]] | None = None,
    extra: tuple[Path, ...] = (),
) -> Iterator[Fleet]:
    """Start one server per host name, each from its own directory; stop them all after."""
    KINDS[KIND].check()
    hosts: list[Host] = []
    with contextlib.ExitStack() as stack:
        for name in NAMES:
            app = host_dir(base, name, site, extra)
            log = base / f"{name}.log"
            host_env = {
                **env,
                "LAZYCRON_HOST": name,
                "JOB_LOG": str(log),
                **(per_host or {}).get(name, {}),
            }
            server = Server(KIND, app, env=host_env, pythonpath=[REPO_ROOT], workers=WORKERS)
            stack.enter_context(server)
            hosts.append(Host(name, server, log))
        try:
            yield Fleet(hosts)
        finally:
            for host in hosts:
                host.captured = host.server_log()


# -- a private Redis, to stop and flush ------------------------------------------------------


class PrivateRedis:
    """A ``redis-server`` of our own on a free port, without persistence: stopping it
    loses everything, as a Redis restarted without persistence does."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        require(binary is not None, "redis-server", "apt-get install -y redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis(port=self.port, socket_timeout=1) as client:
                    client.ping()
                return
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def flushall(self) -> None:
        import redis

        with redis.Redis(port=self.port, socket_timeout=2) as client:
            client.flushall()

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
