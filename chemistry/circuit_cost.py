"""Gate counts of a circuit after transpiling to {CX, U}: the yardstick for GQE vs VQE circuits."""

from __future__ import annotations

from qiskit import QuantumCircuit, transpile

from circuits.errors import ChemistryError

__all__ = ["BASIS", "gate_counts"]

BASIS = ("cx", "u")


def gate_counts(circuit: QuantumCircuit, optimization_level: int = 1) -> dict[str, int]:
    """``{"total", "cx", "single_qubit", "depth"}`` of ``circuit`` transpiled to CX + U gates.

    ``total`` is CX plus single-qubit gates (measurements, resets and barriers are not gates);
    the transpiler seed is fixed so the counts are reproducible.
    """
    if not isinstance(circuit, QuantumCircuit):
        raise ChemistryError(f"gate_counts needs a qiskit QuantumCircuit, got {type(circuit).__name__}")
    if circuit.parameters:
        names = sorted(p.name for p in circuit.parameters)
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise ChemistryError(
            f"bind the circuit's parameters before counting gates ({len(names)} unbound: {shown}); "
            "use circuit.assign_parameters(values)"
        )
    if isinstance(optimization_level, bool) or optimization_level not in (0, 1, 2, 3):
        raise ChemistryError(f"optimization_level must be 0, 1, 2 or 3, got {optimization_level!r}")
    out = transpile(
        circuit, basis_gates=list(BASIS), optimization_level=optimization_level, seed_transpiler=0
    )
    ops = out.count_ops()
    cx = int(ops.get("cx", 0))
    single = int(ops.get("u", 0))
    return {"total": cx + single, "cx": cx, "single_qubit": single, "depth": int(out.depth())}
