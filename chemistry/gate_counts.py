"""Gate counts of a circuit after transpiling to {CX, U}: the yardstick for GQE vs VQE circuits."""

from __future__ import annotations

from qiskit import QuantumCircuit, transpile

BASIS = ("cx", "u")


def gate_counts(circuit: QuantumCircuit, optimization_level: int = 1) -> dict[str, int]:
    """``{"total", "cx", "single_qubit", "depth"}`` of ``circuit`` transpiled to CX + U gates."""
    if not isinstance(circuit, QuantumCircuit):
        raise ValueError(f"gate_counts needs a QuantumCircuit, got {type(circuit).__name__}")
    if circuit.parameters:
        names = ", ".join(sorted(p.name for p in circuit.parameters)[:5])
        raise ValueError(f"bind the circuit's parameters before counting gates (unbound: {names}...)")
    if optimization_level not in (0, 1, 2, 3):
        raise ValueError(f"optimization_level must be 0-3, got {optimization_level!r}")
    out = transpile(circuit, basis_gates=list(BASIS), optimization_level=optimization_level,
                    seed_transpiler=0)
    ops = out.count_ops()
    cx = int(ops.get("cx", 0))
    single = int(ops.get("u", 0))
    return {"total": cx + single, "cx": cx, "single_qubit": single, "depth": int(out.depth())}
