"""Shared helpers for the benchmarks: statistics, machine facts, results on disk.

Every benchmark script writes one JSON file under ``benchmarks/results/`` and prints a
short summary. ``run_all.py`` runs them and turns the JSON into ``BENCHMARKS.md``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PEERS_VENV = ROOT / "benchmarks" / ".venv-peers"


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median and range of a sample."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def fmt(stat: dict[str, float], unit: str = "", digits: int = 0) -> str:
    """``median [min-max] unit``."""
    spec = f"{{:.{digits}f}}"
    med, low, high = (spec.format(stat[k]) for k in ("median", "min", "max"))
    return f"{med} [{low}-{high}]{(' ' + unit) if unit else ''}"


def rss_kib() -> int:
    """The resident set size of this process, from /proc."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def versions(names: Sequence[str]) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> dict[str, Any]:
    model = ""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        if match := re.search(r"model name\s*:\s*(.+)", cpuinfo):
            model = match.group(1).strip()
    except OSError:
        pass
    wrk = ""
    try:
        wrk = subprocess.run(
            ["wrk", "--version"], check=False, capture_output=True, text=True
        ).stdout
        wrk = wrk.splitlines()[0] if wrk else ""
    except OSError:
        wrk = "not installed"
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "wrk": wrk,
        "packages": versions(["lazycron", "filelock", "croniter", "Django", "gunicorn"]),
    }


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"benchmark": name, "command": " ".join(sys.argv), **data}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
