"""OpenQASM 2 and 3 in and out of ``qiskit.QuantumCircuit``, with errors that point at the source.

Reading goes through Qiskit's own parsers: ``qiskit.qasm2`` with the legacy gate set (so real-world
files built on ``qelib1.inc`` with ``u1``/``u2``/``u3``/``cu1``/``rxx``... load as Qiskit's standard
gates) and, for OpenQASM 3, the reference importer ``qiskit_qasm3_import`` (falling back to Qiskit's
experimental native importer when that package is missing). Every failure on malformed input
becomes a :class:`~circuits.errors.QasmError` carrying a 1-based ``line`` and ``column``.

Free parameters survive an OpenQASM 3 round trip by name, ``ParameterVector`` elements included:
:func:`dumps` records how it renamed them in a ``// ketml:parameters`` comment that :func:`loads`
reads back (other tools see a plain comment).

The package's modules: :mod:`.source` (program text, positions, messages), :mod:`.version`
(header and version detection), :mod:`.qasm2` and :mod:`.qasm3` (reading each version),
:mod:`.names` (parameter names across a round trip) and :mod:`.export` (writing).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from qiskit import QuantumCircuit

from ..errors import ConfigurationError, ParameterError, QasmError
from . import qasm2, qasm3
from .export import QasmExportError, to_qasm2, to_qasm3
from .guards import MAX_QUBITS, check_includes, check_sizes
from .source import PathLike, Source
from .version import detect, detect_version

__all__ = ["QasmExportError", "detect_version", "dump", "dumps", "load", "loads"]


def loads(
    text: str, *, include_path: Iterable[PathLike] | None = None, max_qubits: int = MAX_QUBITS
) -> QuantumCircuit:
    """Parse an OpenQASM 2 or 3 program into a ``QuantumCircuit``.

    The version comes from the ``OPENQASM`` header; without one, a program using 3-only syntax
    (``qubit``, ``input``, ``stdgates.inc``...) is read as 3, anything else as 2. OpenQASM 3
    ``input float[64] name;`` declarations become free ``Parameter``s. ``include_path`` is searched
    for OpenQASM 2 includes (``qelib1.inc`` is built in); an include outside those folders (an
    absolute path, ``..``) is refused. A program declaring more than ``max_qubits`` qubits or
    classical bits is refused before it is parsed.

    Raises:
        QasmError: malformed or unsupported input, with the 1-based ``line`` and ``column``.

    Examples:
        >>> from circuits import qasm
        >>> bell = qasm.loads('''
        ... OPENQASM 3.0;
        ... include "stdgates.inc";
        ... input float[64] theta;
        ... qubit[2] q;
        ... h q[0];
        ... cx q[0], q[1];
        ... rz(theta) q[1];
        ... ''')
        >>> bell.num_qubits, dict(bell.count_ops()), [p.name for p in bell.parameters]
        (2, {'h': 1, 'cx': 1, 'rz': 1}, ['theta'])
        >>> qasm.loads('OPENQASM 2.0;\\ninclude "qelib1.inc";\\nqreg q[1];\\nh q[0]\\n')
        Traceback (most recent call last):
        ...
        circuits.errors.QasmError: missing ';' after `h q[0]` (line 4, column 7)
    """
    if not isinstance(text, str):
        hint = "; use load(path) for files" if isinstance(text, os.PathLike) else ""
        kind = type(text).__name__
        raise TypeError(f"loads() takes OpenQASM program text (str), not {kind}{hint}")
    stripped = text.strip()
    if (
        stripped
        and ";" not in stripped
        and "\n" not in stripped
        and re.search(r"\.(qasm|qasm2|qasm3|inc)\Z", stripped)
    ):
        raise QasmError(
            f"{stripped!r} looks like a file name: loads() takes program text, use load(path)",
            1,
            1,
        )
    if text.startswith("\ufeff"):  # byte-order mark: blank it, keeping columns
        text = " " + text[1:]
    src = Source(text)
    version, had_header = detect(src)
    folders = tuple(include_path) if include_path is not None else ()
    check_sizes(src, max_qubits)
    check_includes(src, folders)
    note = "" if had_header else f"no OPENQASM header; read as OpenQASM {version}"
    if version == 2:
        return qasm2.read(src, folders, note)
    return qasm3.read(src, note)


def load(path: PathLike, *, max_qubits: int = MAX_QUBITS) -> QuantumCircuit:
    """Read an OpenQASM 2 or 3 file; OpenQASM 2 includes are searched beside the file (and only
    there, besides the standard library)."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise QasmError(f"{path} is not UTF-8 text", line, column) from exc
    return loads(text, include_path=[path.parent], max_qubits=max_qubits)


def dumps(circuit: QuantumCircuit, version: int = 3) -> str:
    """Write a circuit as OpenQASM ``version`` 2 or 3 text.

    OpenQASM 3 keeps free parameters as ``input float[64]`` declarations (names restored by
    :func:`loads`); OpenQASM 2 cannot hold them, so bind them first. The three errors below are
    all subclasses of ``ValueError``.

    Raises:
        ConfigurationError: ``version`` is not 2 or 3.
        ParameterError: free parameters with ``version=2``.
        QasmExportError: instructions the exporter cannot write in that version.
    """
    if not isinstance(circuit, QuantumCircuit):
        raise TypeError(f"dumps() takes a qiskit QuantumCircuit, not {type(circuit).__name__}")
    if isinstance(version, bool) or version not in (2, 3):
        raise ConfigurationError(f"OpenQASM version must be 2 or 3, not {version!r}")
    if version == 3:
        return to_qasm3(circuit)
    if circuit.parameters:
        names = [p.name for p in circuit.parameters]
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        raise ParameterError(
            f"OpenQASM 2 cannot hold free parameters, and the circuit has {len(names)} "
            f"({shown}); bind them with circuit.assign_parameters(...) or write OpenQASM 3 "
            "(version=3), which declares them as 'input float[64]'"
        )
    return to_qasm2(circuit)


def dump(circuit: QuantumCircuit, path: PathLike, version: int = 3) -> None:
    """Write :func:`dumps` output to ``path``."""
    Path(path).write_text(dumps(circuit, version), encoding="utf-8")
