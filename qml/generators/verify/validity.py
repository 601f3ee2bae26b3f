"""Fold 1 of the verification: is a QASM file a circuit? It must parse with Qiskit and run.

Small circuits (up to ``max_statevector_qubits``) are simulated on a ketml engine (the torch state
vector, measurements and barriers dropped) and must keep a unit norm; larger ones run on the ``aer``
engine's matrix product state simulator (bond dimension capped at 2: a check that every gate
applies, not an accurate state) and must return a shot, up to ``max_mps_gates`` gates (opt-in);
above that, or without qiskit-aer, they pass a gate count check (every instruction acts on qubits of the
circuit, at least one gate). Every invalid file keeps
its reason, so a syntax error is a recorded result, not a crash.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..qasm_text import gate_sequence, parse

__all__ = ["FileCheck", "check_file", "check_text", "runnable_part"]


@dataclass
class FileCheck:
    """The verdict on one file: ``valid``, the ``reason`` when not, and how it was checked."""

    name: str
    valid: bool
    reason: str = ""
    method: str = ""
    num_qubits: int = 0
    n_gates: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def runnable_part(circuit):
    """A copy of ``circuit`` without measurements, resets, barriers or classical bits."""
    from qiskit import QuantumCircuit

    out = QuantumCircuit(circuit.num_qubits)
    for inst in circuit.data:
        if inst.operation.name in ("measure", "reset", "barrier", "delay"):
            continue
        if inst.clbits or getattr(inst.operation, "condition", None) is not None:
            continue
        out.append(inst.operation, [circuit.find_bit(q).index for q in inst.qubits])
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _aer_available() -> bool:
    try:
        import qiskit_aer  # noqa: F401
    except ImportError:
        return False
    return True


def check_text(
    text: str,
    name: str = "<text>",
    *,
    max_statevector_qubits: int = 12,
    engine: str = "torch",
    max_mps_gates: int = 0,
):
    """``(FileCheck, circuit or None)`` for QASM ``text``; circuits wider than the state-vector
    limit run on Aer MPS when they have at most ``max_mps_gates`` gates (default 0: off, the gate
    count check only; qiskit-aer 0.18.2 crashed, a segfault, on a generated circuit)."""
    try:
        circuit = parse(text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # QASM2ParseError, and a Rust panic (a BaseException) on huge integers
        return FileCheck(name, False, f"does not parse: {_first_line(exc)}", "qiskit.qasm2"), None
    gates = gate_sequence(circuit)
    check = FileCheck(name, True, "", "", circuit.num_qubits, len(gates))
    if not gates:
        check.valid, check.reason, check.method = False, "no gates", "gate count"
        return check, circuit
    if circuit.num_qubits <= max_statevector_qubits:
        import circuits as ketml_circuits

        check.method = f"statevector ({engine} engine)"
        try:
            state = ketml_circuits.statevector(runnable_part(circuit), engine=engine)
            norm = float(state.abs().square().sum())
        except Exception as exc:  # an engine that cannot run it: the file is not a usable circuit
            check.valid, check.reason = False, f"does not simulate: {_first_line(exc)}"
            return check, circuit
        if abs(norm - 1.0) > 1e-3:
            check.valid, check.reason = False, f"state norm {norm:.4f} after simulation"
        return check, circuit
    check.method = "gate count"
    bad = [g for g in gates if any(q >= circuit.num_qubits for q in g[1])]
    if bad:
        check.valid, check.reason = False, f"gate {bad[0][0]} acts outside the register"
        return check, circuit
    if len(gates) <= max_mps_gates and _aer_available():
        import circuits as ketml_circuits

        check.method = "matrix product state (aer engine)"
        runnable = runnable_part(circuit)
        runnable.measure_all()
        try:
            counts = ketml_circuits.sample(
                runnable,
                shots=1,
                engine="aer",
                seed=0,
                method="matrix_product_state",
                matrix_product_state_max_bond_dimension=2,
            )
        except Exception as exc:  # an engine that cannot run it: the file is not a usable circuit
            check.valid, check.reason = False, f"does not simulate: {_first_line(exc)}"
            return check, circuit
        if sum(counts[0].values()) != 1:
            check.valid, check.reason = False, "the simulation returned no shot"
    return check, circuit


def check_file(path: str | os.PathLike, **options):
    """:func:`check_text` for a file; an unreadable or non-UTF-8 file is invalid with its reason."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FileCheck(path.name, False, f"unreadable: {_first_line(exc)}", "read"), None, ""
    check, circuit = check_text(text, path.name, **options)
    return check, circuit, text
