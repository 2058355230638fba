"""Start a gunicorn on loopback, drive it with wrk, and read the jobs' own log."""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import ROOT, free_port, wait_for_port

# wrk's Lua hook: wait this many milliseconds before each request on a connection, so a
# handful of connections send a steady, moderate load and latency is not queueing.
PACED_LUA = "function delay()\n  return {delay_ms}\nend\n"
# The same with exponential gaps (Poisson arrivals): a fixed period would phase-lock with an
# interval job's grid and make lateness look better (or worse) than real traffic would.
POISSON_LUA = "function delay()\n  return -math.log(1 - math.random()) * {delay_ms}\nend\n"


@dataclass
class Site:
    """One server configuration: which app, which venv, which environment."""

    name: str
    app: str  # e.g. benchmarks.sites.wsgi_site:application
    env: dict[str, str] = field(default_factory=dict)
    python: Path = ROOT / ".venv" / "bin" / "python"
    workers: int = 2


@contextmanager
def serve(site: Site, log_dir: Path) -> Iterator[str]:
    """Run the site under ``gunicorn -w N`` on a free loopback port; yield its URL."""
    port = free_port()
    env = {**os.environ, **site.env}
    output = open(log_dir / f"{site.name}.gunicorn.log", "ab")  # noqa: SIM115
    server = subprocess.Popen(
        [
            str(site.python),
            "-m",
            "gunicorn",
            "-w",
            str(site.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT),
            "--log-level",
            "warning",
            site.app,
        ],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}/"
        # Every worker imports the app lazily on its first request: warm them all up.
        for _ in range(4 * site.workers):
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)
        output.close()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"cannot read wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str,
    seconds: float,
    *,
    threads: int = 2,
    connections: int = 16,
    delay_ms: float | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Run wrk once; requests/s, latency percentiles (ms) and errors."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    command.append(f"--timeout={timeout:g}s")
    with tempfile.TemporaryDirectory() as tmp:
        if delay_ms is not None:
            script = Path(tmp) / "paced.lua"
            script.write_text(PACED_LUA.format(delay_ms=delay_ms))
            command += ["-s", str(script)]
        started = time.time()
        output = subprocess.run(
            [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
        ended = time.time()
    result: dict[str, Any] = {"start": started, "end": ended, "command": " ".join(command)}
    result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    result["requests"] = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M):
        result[f"p{pct}_ms"] = _ms(value)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non2xx"] = int(non2xx.group(1)) if non2xx else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["socket_errors"] = sum(map(int, errors.groups())) if errors else 0
    return result


def read_runs(log: Path) -> list[tuple[str, float, int, float, float]]:
    """The job log: (scheduler, tick, pid, start, end) per run; a run that never wrote
    its end line (its process was stopped) ends at infinity."""
    if not log.exists():
        return []
    runs: dict[tuple[str, float, int, float], float] = {}
    for line in log.read_text().splitlines():
        event, who, tick, pid, start, *end = line.split()
        key = (who, float(tick), int(pid), float(start))
        if event == "start":
            runs.setdefault(key, math.inf)
        else:
            runs[key] = float(end[0])
    return [(*key, end) for key, end in runs.items()]


def busy_fraction(
    runs: list[tuple[str, float, int, float, float]], start: float, end: float
) -> float:
    """The share of [start, end] during which at least one run was in progress."""
    spans = sorted((max(s, start), min(e, end)) for *_, s, e in runs if e > start and s < end)
    covered, reach = 0.0, start
    for s, e in spans:
        if e > reach:
            covered += e - max(s, reach)
            reach = e
    return covered / (end - start)
