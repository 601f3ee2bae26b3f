"""Reading OpenQASM 2 through ``qiskit.qasm2`` with the legacy gate set (``qelib1.inc``'s
``u1``/``u2``/``u3``/``cu1``... load as Qiskit's standard gates); failures become positioned
:class:`~circuits.errors.QasmError`s."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from qiskit import QuantumCircuit, qasm2

from ..errors import QasmError
from .source import (
    PathLike,
    Source,
    arity_message,
    bare_message,
    error_message,
    first_failing,
    same_error,
    split_top,
)

_QASM2_POS = re.compile(r"(?P<file>.*?):(?P<line>\d+),(?P<col>\d+): (?P<msg>.*)\Z", re.S)
_QELIB1 = {c.name: (c.num_params, c.num_qubits) for c in qasm2.LEGACY_CUSTOM_INSTRUCTIONS}


def _qasm2_parse(text: str, include_path: Sequence[PathLike]) -> QuantumCircuit:
    return qasm2.loads(
        text,
        include_path=include_path,
        custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
        custom_classical=qasm2.LEGACY_CUSTOM_CLASSICAL,
        strict=False,
    )


def read(src: Source, include_path: Sequence[PathLike], note: str) -> QuantumCircuit:
    """Parse OpenQASM 2 ``src``, searching ``include_path`` and then Qiskit's legacy includes;
    ``note`` (e.g. that the header was missing) is appended to any error."""
    # the standard library, but not the working directory that Qiskit's legacy path also holds
    library = [p for p in qasm2.LEGACY_INCLUDE_PATH if str(p) not in (".", "")]
    include_path = (*include_path, *library)
    try:
        return _qasm2_parse(src.text, include_path)
    except MemoryError:
        raise
    except Exception as exc:  # every parser failure becomes a QasmError
        err = _qasm2_error(src, exc, include_path)
        if note:
            err = QasmError(f"{bare_message(err)} ({note})", err.line, err.column)
        raise err from exc


def _qasm2_error(src: Source, exc: Exception, include_path: Sequence[PathLike]) -> QasmError:
    msg = error_message(exc)
    m = _QASM2_POS.match(msg)
    if m is not None and m.group("file") == "<input>":
        line, col, text = int(m.group("line")), int(m.group("col")) + 1, m.group("msg")
        if "';'" in text and ("needed" in text or "expecting to see" in text):
            at = len(src.text) if "end-of-file" in text else src.offset(line, col)
            return src.missing_semicolon(at)
        names = re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", text)
        if names and "not defined" in text:
            line, col = src.locate_name(line, col, names[0])
        return QasmError(text, line, col)
    if m is not None:  # the error is inside an included file
        inc = f"in included file {m.group('file')}, line {m.group('line')}"
        msg = f"{inc}, column {int(m.group('col')) + 1}: {m.group('msg')}"
        base = os.path.basename(m.group("file"))
        for hit in re.finditer(r'include\s+"([^"]*)"', src.masked):
            if os.path.basename(hit.group(1)) == base:
                return QasmError(msg, *src.position(hit.start()))
    # no position from the parser: find the first statement that triggers the same failure
    spans = src.statements()
    same = same_error(exc)
    k = first_failing(
        len(spans), lambda k: same(lambda: _qasm2_parse(src.text[: spans[k - 1][1]], include_path))
    )
    if k is None:
        return QasmError(msg)
    start, end = spans[k - 1]
    stmt = src.snippet(start, end).rstrip(";").strip()
    detail = _qasm2_arity(src, stmt) or msg
    return QasmError(f"error in `{stmt}`: {detail}", *src.position(start))


def _qasm2_arity(src: Source, stmt: str) -> str | None:
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*(.*)\Z", stmt, re.S)
    if m is None or m.group(1) in ("measure", "reset", "barrier", "if", "qreg", "creg"):
        return None
    name = m.group(1)
    defined = re.search(rf"\b(?:gate|opaque)\s+{re.escape(name)}\b", src.masked)
    known = None if defined else _QELIB1.get(name)
    if known is None:
        return None
    got = (len(split_top(m.group(2) or "")), len(split_top(m.group(3))))
    return arity_message(name, known, got)
