"""OpenQASM 2 text as the generators see it: the header prompt, parsing with Qiskit, gate sequences.

Parsing is Qiskit's (``qiskit.qasm2.loads`` with the legacy custom instructions, as
``QuantumCircuit.from_qasm_str`` does), so "valid" means what it means to a Qiskit user.
"""

from __future__ import annotations

import re

__all__ = [
    "HEADER_KEYWORDS",
    "MAX_QUBITS",
    "QASM2_GATES",
    "canonical",
    "format_angle",
    "gate_sequence",
    "header",
    "normalise",
    "parse",
    "qubits_of_header",
    "split_header",
]

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


#: the statements of a canonical circuit's header: the version, the include and the registers
HEADER_KEYWORDS = ("OPENQASM", "include", "qreg", "creg")


def split_header(text: str) -> tuple[str, str]:
    """``(header, body)`` of a QASM text: the header is its leading lines that start with one of
    :data:`HEADER_KEYWORDS` (``OPENQASM 2.0;``, the include, ``qreg q[N];`` and ``creg c[K];`` in the
    canonical form). KetGPT pins it before every piece of a long circuit (:func:`.lm.chunk_pinned`)."""
    end = 0
    for line in text.splitlines(keepends=True):
        if not line.lstrip().startswith(HEADER_KEYWORDS):
            break
        end += len(line)
    return text[:end], text[end:]


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


#: qelib1.inc gates the canonical form writes: name -> (qubits, parameters)
QASM2_GATES: dict[str, tuple[int, int]] = {
    **{g: (1, 0) for g in ("id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg")},
    **{g: (1, 1) for g in ("rx", "ry", "rz", "p", "u1")},
    "u2": (1, 2),
    "u3": (1, 3),
    **{g: (2, 0) for g in ("cx", "cy", "cz", "ch", "swap")},
    **{g: (2, 1) for g in ("crx", "cry", "crz", "cp", "cu1", "rzz", "rxx")},
    **{g: (3, 0) for g in ("ccx", "cswap")},
}

_PI_DENOMINATORS = (1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128, 256, 512, 1024)


def format_angle(x: float) -> str:
    """An angle as the canonical form writes it: ``k*pi/m`` for small fractions of pi (``pi/4``,
    ``-3*pi/8``), else a decimal of at most four decimals and three integer digits."""
    import math

    x = float(x)
    if abs(x) >= 1000:
        x = math.fmod(x, 4 * math.pi)  # every qelib1 rotation has period 4 pi
    for m in _PI_DENOMINATORS:
        k = round(x * m / math.pi)
        if k and abs(k) <= 99 and abs(x - k * math.pi / m) < 1e-9 and math.gcd(k, m) == 1:
            num = "pi" if abs(k) == 1 else f"{abs(k)}*pi"
            return ("-" if k < 0 else "") + num + (f"/{m}" if m > 1 else "")
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _decomposed(circuit, allowed):
    """``circuit`` with every gate outside ``allowed`` (custom gates) decomposed, repeatedly."""
    keep = set(allowed) | {"measure", "barrier", "delay"}
    for _ in range(8):
        other = {inst.operation.name for inst in circuit.data} - keep
        if not other:
            return circuit
        circuit = circuit.decompose(gates_to_decompose=sorted(other))
    raise ValueError(f"gates {sorted(other)} do not decompose into qelib1 gates")


def canonical(source) -> str:
    """One canonical OpenQASM 2 text for a circuit (QASM text or ``QuantumCircuit``): the header,
    one register ``qreg q[N];`` (all quantum registers flattened in order), ``creg c[K];`` right
    after it when the circuit measures (all classical bits flattened), custom gates decomposed
    into :data:`QASM2_GATES`, barriers dropped, angles by :func:`format_angle`, one statement a
    line. The language model learns this form, so the register size it is prompted with is the
    only register and no name is ever declared twice."""
    circuit = parse(source) if isinstance(source, str) else source
    circuit = _decomposed(circuit, QASM2_GATES)
    lines = [header(circuit.num_qubits).rstrip("\n")]
    body = []
    measures = False
    for inst in circuit.data:
        name = inst.operation.name
        qubits = [circuit.find_bit(q).index for q in inst.qubits]
        if name in ("barrier", "delay"):
            continue
        if name == "measure":
            measures = True
            body.append(f"measure q[{qubits[0]}] -> c[{circuit.find_bit(inst.clbits[0]).index}];")
            continue
        params = inst.operation.params
        par = "(" + ",".join(format_angle(p) for p in params) + ")" if params else ""
        body.append(f"{name}{par} " + ",".join(f"q[{q}]" for q in qubits) + ";")
    if measures:
        lines.append(f"creg c[{circuit.num_clbits}];")
    return "\n".join(lines + body) + "\n"
