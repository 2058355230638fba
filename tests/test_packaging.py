"""What pip sees of lazycron: one version, written once."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path
from typing import Any

import lazycron

ROOT = Path(__file__).resolve().parent.parent


def pyproject() -> dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)


def test_the_version_is_written_once() -> None:
    project = pyproject()["project"]
    assert "version" not in project, "pyproject.toml repeats the version"
    assert "version" in project.get("dynamic", [])
    source = pyproject()["tool"]["setuptools"]["dynamic"]["version"]
    assert source == {"attr": "lazycron.__version__"}
    assert importlib.metadata.version("lazycron") == lazycron.__version__
