"""Every code block in README.md and docs/*.md runs as written, so the docs cannot rot.

How each block is run, and the ``<!-- doctest: MODE -->`` marker for blocks that are
fragments, settings or a ``cron.py``: see the docstring of tests/docs_blocks.py.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from lazycron.cli import build_parser

from .docs_blocks import ROOT, Block, all_blocks, commands

BLOCKS = all_blocks()
PYTHON = [b for b in BLOCKS if b.language == "python" and b.mode != "skip"]
SHELL = [b for b in BLOCKS if b.language in {"console", "sh", "shell", "bash"}]


def where(block: Block) -> str:
    return block.where


@pytest.mark.parametrize("block", PYTHON, ids=where)
def test_python_block(block: Block, tmp_path: Path) -> None:
    if block.mode == "fragment":
        compile(block.source, block.where, "exec")
        return
    source = tmp_path / "block.py"
    source.write_text(block.source)
    work = tmp_path / "work"
    work.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "LAZYCRON_"))  # the block's own settings only
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.docs_runner", block.mode, str(source), str(work)],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(tmp_path / "xdg")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"the {block.mode!r} python block at {block.where} fails as written "
        f"(a fragment? mark it, see tests/docs_blocks.py):\n{result.stderr}"
    )


def lazycron_arguments(command: str) -> tuple[str, list[str]] | None:
    """("cli" or "manage.py", arguments) for a lazycron command line, else None."""
    words = shlex.split(command)
    for index, word in enumerate(words):
        if Path(word).name == "lazycron" and index == 0:
            return "cli", words[1:]
        if word == "-m" and words[index + 1 : index + 2] == ["lazycron"]:
            return "cli", words[index + 2 :]
        if Path(word).name == "manage.py" and words[index + 1 : index + 2] == ["lazycron"]:
            return "manage.py", words[index + 2 :]
    return None


@pytest.mark.parametrize("block", SHELL, ids=where)
def test_shell_block_lazycron_commands_parse(block: Block) -> None:
    from django.core.management import CommandError

    from lazycron.django.command import Command

    for command in commands(block):
        found = lazycron_arguments(command)
        if found is None:
            continue  # pip, make, curl...: not ours to run
        kind, arguments = found
        parser = (
            build_parser() if kind == "cli" else Command().create_parser("manage.py", "lazycron")
        )
        try:
            parser.parse_args(arguments)
        except SystemExit as exc:
            if exc.code != 0:  # 0: --version or --help, which exit after printing
                pytest.fail(f"{block.where}: `{command}` does not parse: exit {exc.code}")
        except CommandError as exc:
            pytest.fail(f"{block.where}: `{command}` does not parse: {exc}")


def test_every_document_has_blocks_and_markers_are_valid() -> None:
    # all_blocks() raises on an unknown mode, a skip without reason or an open fence.
    assert {b.path.name for b in BLOCKS} >= {"README.md", "django.md"}
