"""The test run's own rules, as a contributor meets them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_warning_fails_the_test_that_raised_it(tmp_path: Path) -> None:
    (tmp_path / "test_warns.py").write_text(
        "import warnings\n\n"
        "def test_old_api():\n"
        "    warnings.warn('this API is going away', DeprecationWarning)\n"
    )
    config = ["-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *config, "-p", "no:cacheprovider", "-q", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "DeprecationWarning: this API is going away" in result.stdout
    assert "1 failed" in result.stdout
