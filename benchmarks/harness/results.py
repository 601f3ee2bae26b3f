"""Result files: ``<out>/<name>.json`` (every measurement) and ``<out>/<name>.md`` (the tables),
written atomically, and ``EntryStore`` for reproductions whose entries are resumable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


def _jsonable(obj: Any) -> Any:
    """numpy / torch scalars and arrays as plain numbers and lists (``json.dumps``'s default)."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return float(obj)


def _write_atomic(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (numpy scalars allowed) in one step: a reader never sees
    half a file, and an interrupted write leaves the old one."""
    return _write_atomic(path, json.dumps(data, indent=2, default=_jsonable) + "\n")


def write_markdown(path: Path, lines: str | Iterable[str]) -> Path:
    """Write markdown: a text (a newline added unless it ends with one), or lines, each ended
    by a newline."""
    if isinstance(lines, str):
        text = lines if lines.endswith("\n") else lines + "\n"
    else:
        text = "".join(line + "\n" for line in lines)
    return _write_atomic(path, text)


def write_results(out: Path, name: str, data: Any, markdown: str | Iterable[str]) -> tuple[Path, Path]:
    """Write ``<out>/<name>.json`` and ``<out>/<name>.md``; return their paths."""
    out = Path(out)
    return write_json(out / f"{name}.json", data), write_markdown(out / f"{name}.md", markdown)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A markdown table's lines: the header, ``|---|`` per column, one line per row."""
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        row = [str(cell) for cell in row]
        if len(row) != len(header):
            raise ValueError(f"row has {len(row)} cells, the header {len(header)}: {row}")
        lines.append("| " + " | ".join(row) + " |")
    return lines


class EntryStore:
    """One JSON file per finished entry of a reproduction (``<folder>/<id>.json``): an entry
    found here is done and skipped, so an interrupted run resumes where it stopped."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path(self, entry_id: str) -> Path:
        return self.folder / f"{entry_id}.json"

    def has(self, entry_id: str) -> bool:
        return self.path(entry_id).is_file()

    def load(self, entry_id: str) -> dict[str, Any]:
        return json.loads(self.path(entry_id).read_text())

    def save(self, entry_id: str, result: dict[str, Any]) -> Path:
        return write_json(self.path(entry_id), result)

    def load_many(self, entry_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The finished entries among ``entry_ids``, in that order."""
        return {e: self.load(e) for e in entry_ids if self.has(e)}

    def load_all(self) -> dict[str, dict[str, Any]]:
        """Every finished entry in the folder, by id (sorted)."""
        return {p.stem: json.loads(p.read_text()) for p in sorted(self.folder.glob("*.json"))}
