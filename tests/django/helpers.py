"""What the Django tests share: helpers only (the fixtures are in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_django(
    code: str, *, extra_apps: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with the test settings (plus ``extra_apps``)."""
    environment = {
        **os.environ,
        "LAZYCRON_TEST_EXTRA_APPS": extra_apps,
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
