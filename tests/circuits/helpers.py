"""Shared helpers for the circuit tests: seeded random circuits and reference results."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVector
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.quantum_info import SparsePauliOp, Statevector

STANDARD = get_standard_gate_name_mapping()
SKIP = {"measure", "reset", "delay", "barrier", "global_phase"}
GATES = sorted(
    name
    for name, g in STANDARD.items()
    if name not in SKIP and getattr(g, "num_qubits", 0) and g.num_qubits <= 4
)


def random_circuit(
    n: int, depth: int, rng: np.random.Generator, n_params: int = 6, max_gate_qubits: int = 4
) -> QuantumCircuit:
    """A random circuit over every standard gate, with symbolic parameter expressions."""
    x = ParameterVector("x", n_params)
    qc = QuantumCircuit(n)
    names = [g for g in GATES if STANDARD[g].num_qubits <= min(n, max_gate_qubits)]
    for _ in range(depth):
        name = names[rng.integers(len(names))]
        template = STANDARD[name]
        qubits = [int(q) for q in rng.choice(n, template.num_qubits, replace=False)]
        params = []
        for _ in template.params:
            r = rng.integers(4)
            a, b = x[rng.integers(n_params)], x[rng.integers(n_params)]
            params.append([a, 2 * a - 0.3, a * b, np.pi - a][r] if r else float(rng.normal()))
        gate = template.base_class(*params) if params else template.base_class()
        qc.append(gate, qubits)
    qc.global_phase = x[0] * 0.5
    return qc


def bound(circuit: QuantumCircuit, values: np.ndarray) -> QuantumCircuit:
    return circuit.assign_parameters(dict(zip(circuit.parameters, values, strict=True)))


def reference_state(circuit: QuantumCircuit, values: np.ndarray) -> np.ndarray:
    return Statevector(bound(circuit, values)).data


def random_pauli_sum(n: int, terms: int, rng: np.random.Generator) -> SparsePauliOp:
    labels = ["".join(rng.choice(list("IXYZ"), n)) for _ in range(terms)]
    return SparsePauliOp(labels, rng.normal(size=terms))


def qasmbench_root() -> Path | None:
    """``$KETML_DATA/qasmbench`` if it exists, else ``../shared/data/qasmbench`` beside the repo."""
    candidates = [Path(__file__).resolve().parents[2].parent / "shared" / "data" / "qasmbench"]
    if os.environ.get("KETML_DATA"):
        candidates.insert(0, Path(os.environ["KETML_DATA"]) / "qasmbench")
    return next((root for root in candidates if (root / "MANIFEST.tsv").is_file()), None)


__all__ = [
    "GATES",
    "Parameter",
    "STANDARD",
    "bound",
    "random_circuit",
    "random_pauli_sum",
    "qasmbench_root",
    "reference_state",
]


def check_layer_finite_differences(
    layer, x, coef, grad_w, grad_x, eps: float = 1e-6, tol: float = 1e-7
) -> None:
    """Central differences of ``sum(layer(x, w) * coef)`` in every weight and every input
    against the gradients ``grad_w`` and ``grad_x`` (an independent check of a backward)."""
    import torch

    with torch.no_grad():
        for i in range(layer.weights.numel()):
            w = layer.weights.clone()
            w[i] += eps
            up = (layer(x, w) * coef).sum()
            w[i] -= 2 * eps
            down = (layer(x, w) * coef).sum()
            assert abs((up - down).item() / (2 * eps) - grad_w[i].item()) < tol
        for b in range(x.shape[0]):
            for j in range(x.shape[1]):
                xp, xm = x.clone(), x.clone()
                xp[b, j] += eps
                xm[b, j] -= eps
                fd = ((layer(xp) - layer(xm)) * coef).sum().item() / (2 * eps)
                assert abs(fd - grad_x[b, j].item()) < tol
