"""Checks on untrusted OpenQASM text that run before any parser: declared register sizes (so a
tiny file cannot make the parser build a hundred-million-qubit circuit) and include files (read
only from the program's own folder, the folders the caller names and the standard library)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from ..errors import QasmError
from .source import Source

#: the most qubits (and, separately, classical bits) ``loads`` accepts unless told otherwise;
#: far above any simulator here (a state vector of 50 qubits is 16 PiB) and any IBM device
MAX_QUBITS = 100_000

#: includes every reader knows without a file (the standard libraries of OpenQASM 2 and 3)
BUILTIN_INCLUDES = ("qelib1.inc", "stdgates.inc")

_CONST = re.compile(r"\bconst\s+(?:u?int|float)?\s*(?:\[\s*\d+\s*\])?\s*([A-Za-z_]\w*)\s*=\s*(\d+)\s*;")
_OLD_DECL = re.compile(r"\b(qreg|creg)\s+[A-Za-z_]\w*\s*\[\s*(\w+)\s*\]")
_NEW_DECL = re.compile(r"(?<![\w.])(qubit|bit)\s*\[\s*(\w+)\s*\]\s*[A-Za-z_]")
_PHYSICAL = re.compile(r"\$(\d+)")
_INCLUDE = re.compile(r'\binclude\s+"([^"\n]*)"')


def check_sizes(src: Source, max_qubits: int = MAX_QUBITS) -> None:
    """Refuse a program that declares more than ``max_qubits`` qubits or classical bits in all,
    at the declaration that crosses the limit (sizes from literals or ``const`` integers)."""
    masked = src.masked
    consts = {m.group(1): int(m.group(2)) for m in _CONST.finditer(masked)}
    totals = {"qubit": 0, "bit": 0}
    for m in sorted([*_OLD_DECL.finditer(masked), *_NEW_DECL.finditer(masked)], key=lambda m: m.start()):
        kind = {"qreg": "qubit", "creg": "bit"}.get(m.group(1), m.group(1))
        size = m.group(2)
        value = int(size) if size.isdigit() else consts.get(size)
        if value is None:
            continue
        totals[kind] += value
        if totals[kind] > max_qubits:
            _too_many(src, m.start(), kind, totals[kind], max_qubits)
    for m in _PHYSICAL.finditer(masked):
        if int(m.group(1)) >= max_qubits:
            _too_many(src, m.start(), "qubit", int(m.group(1)) + 1, max_qubits)


def _too_many(src: Source, offset: int, kind: str, count: int, limit: int) -> None:
    noun = "qubits" if kind == "qubit" else "classical bits"
    raise QasmError(
        f"the program declares {count:,} {noun}, more than the {limit:,} that loads() accepts; "
        f"pass max_qubits= to raise the limit (a state-vector simulator holds about 30-40 qubits)",
        *src.position(offset),
    )


def check_includes(src: Source, folders: Sequence[str | os.PathLike]) -> None:
    """Refuse ``include`` statements that reach outside ``folders`` (the program's own folder and
    the caller's include path): absolute paths, ``..`` and links that lead elsewhere. The standard
    libraries are always allowed; a plain name found nowhere is left to the parser's own "unable
    to find". The message names the include, never the content of the file it points at."""
    roots = [Path(f).resolve() for f in folders]
    for m in _INCLUDE.finditer(src.masked):
        name = m.group(1)
        if name in BUILTIN_INCLUDES:
            continue
        candidates = [(root, (root / name).resolve()) for root in roots]
        found = [(root, target) for root, target in candidates if target.is_file()]
        escapes = Path(name).is_absolute() or ".." in Path(name).parts
        if all(target.is_relative_to(root) for root, target in found) and (found or not escapes):
            continue
        shown = ", ".join(str(r) for r in roots) or "none: program text from loads()"
        raise QasmError(
            f'include "{name}" is outside the folders includes are read from ({shown}); only '
            f"{' and '.join(BUILTIN_INCLUDES)} and files in those folders can be included: copy "
            "the file beside the program (and use load(path)) or pass its folder in include_path",
            *src.position(m.start()),
        )
