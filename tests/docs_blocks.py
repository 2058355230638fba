"""The fenced code blocks of README.md and docs/*.md, and how tests/test_docs.py runs them.

How a block is run is decided by its language and by an optional marker, an HTML comment
on the line just before the opening fence (it does not show on GitHub):

    <!-- doctest: MODE -->

``python`` blocks
    (no marker) run as a script by a fresh interpreter, in an empty temporary working
    directory, with ``flask``, ``fastapi`` and Django importable. A ``test_*`` function the
    block defines is then called (with ``tmp_path`` if it asks for it), as pytest would.
    ``fragment``: only compiled. For a piece of a larger file that cannot run alone (a
    function signature, ``...`` standing for code the reader supplies).
    ``settings``: Django settings. Run with ``BASE_DIR`` defined (``...`` entries in lists
    are dropped), loaded into a fresh Django project, and ``manage.py check`` must pass.
    ``django-cron``: an app's ``cron.py``. Installed as the ``cron.py`` of an app in a fresh
    Django project (with ``django.contrib.sessions`` and a migrated SQLite database), found
    by autodiscovery, and every job it declares is run with ``manage.py lazycron run``.
``console`` and ``sh`` blocks
    each command (``$ ...`` lines of a console block, every line of a sh block) that calls
    ``lazycron``, ``python -m lazycron`` or ``manage.py lazycron`` must parse with the real
    argument parser. Other commands (pip, make, curl) are not run.
Any block
    ``skip: REASON`` is not run; the reason is required. Blocks in other languages (ini,
    apache, text) are not run; the configuration files they quote are run by
    tests/integration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<language>[\w-]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*doctest:\s*(?P<mode>.*?)\s*-->\s*$")
MODES = {"run", "fragment", "settings", "django-cron", "skip"}


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    mode: str  # run, fragment, settings, django-cron or skip
    reason: str  # for skip
    source: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent = opening["indent"]
        body: list[str] = []
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            text = lines[end]
            body.append(text[len(indent) :] if text.startswith(indent) else text.lstrip())
            end += 1
        if end == len(lines):
            raise ValueError(f"{path}:{index + 1}: a code block is never closed")
        mode, reason = _marker(lines, index)
        found.append(
            Block(path, index + 1, opening["language"], mode, reason, "\n".join(body) + "\n")
        )
        index = end + 1
    return found


def _marker(lines: list[str], fence: int) -> tuple[str, str]:
    previous = fence - 1
    while previous >= 0 and not lines[previous].strip():
        previous -= 1
    match = _MARKER.match(lines[previous]) if previous >= 0 else None
    if not match:
        return "run", ""
    mode, _, reason = match["mode"].partition(":")
    mode = mode.strip()
    if mode not in MODES - {"run"}:
        raise ValueError(
            f"line {fence}: unknown doctest mode {mode!r}; use one of "
            f"{', '.join(sorted(MODES - {'run'}))} (see tests/docs_blocks.py)"
        )
    if mode == "skip" and not reason.strip():
        raise ValueError(f"line {fence}: `doctest: skip` needs a reason: skip: WHY")
    return mode, reason.strip()


def all_blocks() -> list[Block]:
    return [block for path in DOCUMENTS for block in blocks(path)]


def commands(block: Block) -> list[str]:
    """The shell commands of a console or sh block, comments and prompts removed."""
    found = []
    for line in block.source.splitlines():
        if block.language == "console" and not line.startswith("$ "):
            continue  # output
        command = re.sub(r"\s+#.*$", "", line.removeprefix("$ ")).strip()
        if command and not command.startswith("#"):
            found.append(command)
    return found
