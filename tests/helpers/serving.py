"""Start a real server for a test, on 127.0.0.1 and a port the kernel picks (port 0).

The server's own log tells us the port it got, so there is no window in which another
process could take a port we chose. The whole process group is killed at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
_URL = re.compile(r"http://127\.0\.0\.1:(\d+)")


@contextlib.contextmanager
def real_server(argv: list[str], env: dict[str, str], log: Path) -> Iterator[str]:
    """Run ``argv`` (which must bind 127.0.0.1 port 0) and yield its base URL."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = _wait_for_url(process, log)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _wait_for_url(process: subprocess.Popen[bytes], log: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        match = _URL.search(log.read_text(errors="replace"))
        if match:
            url = f"http://127.0.0.1:{match.group(1)}"
            with contextlib.suppress(requests.ConnectionError):
                requests.get(url, timeout=2)
                return url
        time.sleep(0.05)
    raise RuntimeError(f"server did not start in {timeout}s:\n{log.read_text()}")
