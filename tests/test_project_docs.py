"""The project stands alone: what its code, tests and documents cite is in the repository.

Every ``design.md#<section>`` reference names a heading that docs/design.md has, and no file
points at a design document, a shared folder or a machine path outside the checkout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEARCHED = ["lazycron", "tests", "docs", "benchmarks", "examples", ".ci"]
TOP_LEVEL = ["README.md", "BENCHMARKS.md", "CHANGELOG.md", "Makefile", "pyproject.toml"]
SUFFIXES = {".py", ".md", ".toml", ".ini", ".conf", ".json", ".txt", ".sh", ".html", ""}
# Spelled in pieces so that this file does not match itself.
OUTSIDE = [
    re.compile("DESIGN" + r"\.md"),
    re.compile("DESIGN" + r" ?§"),
    re.compile("DESIGN" + r" \d"),
    re.compile(r"\.\./" + "shared"),
    re.compile("/" + "work/"),
]
DESIGN_REFERENCE = re.compile(r"design\.md#([A-Za-z0-9_-]+)")


def project_files() -> Iterator[Path]:
    for name in TOP_LEVEL:
        if (ROOT / name).is_file():
            yield ROOT / name
    for top in SEARCHED:
        for path in sorted((ROOT / top).rglob("*")):
            relative = path.relative_to(ROOT).parts
            if any(part.startswith(".venv") or part == "__pycache__" for part in relative):
                continue
            if path.is_file() and path.suffix in SUFFIXES:
                yield path


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings: lower case, punctuation dropped, spaces to -."""
    anchors = set()
    for line in markdown.splitlines():
        match = re.match(r"#{1,6} +(.*)", line)
        if match:
            text = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def test_nothing_cites_a_file_outside_the_project() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in project_files()
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if any(pattern.search(line) for pattern in OUTSIDE)
    ]
    assert found == [], "\n".join(found)


def test_every_design_reference_names_a_section_of_docs_design_md() -> None:
    anchors = heading_anchors((ROOT / "docs" / "design.md").read_text())
    references = [
        (path.relative_to(ROOT), anchor)
        for path in project_files()
        for anchor in DESIGN_REFERENCE.findall(path.read_text(errors="replace"))
    ]
    assert len(references) >= 10  # the code, tests and docs do cite it
    dangling = [f"{path}: #{anchor}" for path, anchor in references if anchor not in anchors]
    assert dangling == [], "no such section in docs/design.md:\n" + "\n".join(dangling)
