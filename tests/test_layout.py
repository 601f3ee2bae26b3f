"""The README's Layout section matches the tree: every entry it names exists, and every top-level
folder and every subpackage of the import packages is named there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("circuits", "data", "qml", "chemistry")


def layout_entries(readme: str) -> set[str]:
    """Paths named in the code block under ``## Layout``; indentation (2 spaces) nests them."""
    section = readme.split("\n## Layout", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    entries: set[str] = set()
    parents: list[tuple[int, str]] = []
    for line in block.splitlines()[1:]:
        match = re.match(r"^( *)(\S+)", line)
        if not match:
            continue
        indent, name = len(match.group(1)), match.group(2)
        if not re.fullmatch(r"[\w.\-]+/|[\w\-]+\.\w+", name):  # a folder or a file; else prose
            continue
        while parents and parents[-1][0] >= indent:
            parents.pop()
        path = (parents[-1][1] if parents else "") + name
        entries.add(path.rstrip("/"))
        if name.endswith("/"):
            parents.append((indent, path))
    return entries


def test_layout_parser_nests_by_indentation():
    text = (
        "x\n## Layout\n\n```\na/    top\n  b/  sub\n    c.py  file\n      more prose\n"
        "d/  other\n```\n## Next\n"
    )
    assert layout_entries(text) == {"a", "a/b", "a/b/c.py", "d"}


def test_every_layout_entry_exists():
    entries = layout_entries((ROOT / "README.md").read_text())
    missing = sorted(e for e in entries if not (ROOT / e).exists())
    assert not missing, f"README Layout names paths that do not exist: {missing}"


def test_every_folder_and_subpackage_is_in_the_layout():
    entries = layout_entries((ROOT / "README.md").read_text())
    top = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    top -= {"runs", "build", "dist", "docs"} | {p for p in top if p.endswith(".egg-info")}
    subpackages = {
        f"{package}/{p.name}"
        for package in PACKAGES
        for p in (ROOT / package).iterdir()
        if (p / "__init__.py").is_file()
    }
    unnamed = sorted((top | subpackages) - entries)
    assert not unnamed, f"README Layout does not name: {unnamed}"
