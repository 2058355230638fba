"""What pip sees of lazycron: one version, written once, and only runtime extras."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

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


def test_users_get_runtime_extras_only() -> None:
    """``pip install lazycron[...]`` offers runtime extras; the test and lint tools live in
    dependency groups, which are never published."""
    config = pyproject()
    extras: dict[str, list[str]] = config["project"].get("optional-dependencies", {})
    assert not {"test", "dev", "lint"} & extras.keys()
    tools = {"pytest", "hypothesis", "ruff", "mypy", "django-stubs"}
    published = {Requirement(r).name.lower() for rs in extras.values() for r in rs}
    assert not published & tools, f"a published extra pulls in test tools: {published & tools}"
    assert {"test", "lint", "dev"} <= config["dependency-groups"].keys()
    distribution = importlib.metadata.metadata("lazycron")
    assert set(distribution.get_all("Provides-Extra") or []) == extras.keys()
