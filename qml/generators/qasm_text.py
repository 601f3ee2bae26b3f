"""OpenQASM 2 text as the generators see it: the header prompt, parsing with Qiskit, gate sequences.

Parsing is Qiskit's (``qiskit.qasm2.loads`` with the legacy custom instructions, as
``QuantumCircuit.from_qasm_str`` does), so "valid" means what it means to a Qiskit user.
"""

from __future__ import annotations

import re

__all__ = ["MAX_QUBITS", "gate_sequence", "header", "normalise", "parse", "qubits_of_header"]

_HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
_QREG = re.compile(r"qreg\s+q\[(\d+)\]\s*;")


def header(num_qubits: int | None = None) -> str:
    """The prompt a circuit is drawn from: the OpenQASM 2 header and, with ``num_qubits``, its
    register ``qreg q[N];`` (KetGPT's header prompt)."""
    return _HEADER + (f"qreg q[{num_qubits}];\n" if num_qubits else "")


def qubits_of_header(text: str) -> int | None:
    """N of the first ``qreg q[N];`` in ``text``, or ``None``."""
    m = _QREG.search(text)
    return int(m.group(1)) if m else None


def normalise(text: str) -> str:
    """The text without comments and with whitespace runs folded (for exact-copy checks)."""
    lines = [line.split("//", 1)[0] for line in text.splitlines()]
    return " ".join(" ".join(lines).split())


#: the widest circuit :func:`parse` builds (a generated ``qreg q[10000000];`` would take minutes)
MAX_QUBITS = 4096
_REG = re.compile(r"\b[qc]reg\s+\w+\s*\[\s*(\d+)\s*\]")
_INDEX = re.compile(r"\[\s*(\d+)")


def parse(text: str):
    """A ``QuantumCircuit`` from OpenQASM 2 text; raises Qiskit's ``QASM2ParseError`` (or another
    exception the parser raises) with its message on bad input, and ``ValueError`` for registers
    wider than :data:`MAX_QUBITS` or integers Qiskit's parser cannot hold (it panics on them)."""
    import qiskit.qasm2

    if any(len(m) >= 19 for m in _INDEX.findall(text)):
        raise ValueError("an index or register size is too large an integer")
    width = sum(int(n) for n in _REG.findall(text) if len(n) < 19)
    if width > MAX_QUBITS:
        raise ValueError(f"registers of {width} bits in all exceed the limit of {MAX_QUBITS}")

    return qiskit.qasm2.loads(
        text,
        custom_instructions=qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
        custom_classical=qiskit.qasm2.LEGACY_CUSTOM_CLASSICAL,
        strict=False,
    )


def gate_sequence(circuit) -> list[tuple[str, tuple[int, ...]]]:
    """``(gate name, qubit indices)`` of each operation, barriers and measurements left out."""
    out = []
    for inst in circuit.data:
        name = inst.operation.name
        if name in ("barrier", "measure", "reset", "delay"):
            continue
        out.append((name, tuple(circuit.find_bit(q).index for q in inst.qubits)))
    return out
