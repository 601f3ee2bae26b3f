"""Shot-based expectation values from measurement counts.

The Pauli terms of all observables are grouped into qubit-wise commuting sets
(Qiskit's ``group_commuting``); each set is measured once in its own basis and
every term in it is read off the same counts as a parity.
"""

from __future__ import annotations

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp


class ShotEstimator:
    """Measurement bases for ``observables`` and the estimator that reads counts back."""

    def __init__(self, observables: list[SparsePauliOp]):
        self.observables = observables
        self.n_qubits = observables[0].num_qubits
        labels = sorted({p.to_label() for o in observables for p in o.paulis} - {"I" * self.n_qubits})
        self.bases: list[str] = []  # one measurement basis per group, Qiskit label order
        self.members: list[list[str]] = []
        if labels:
            for group in SparsePauliOp(labels).group_commuting(qubit_wise=True):
                members = [p.to_label() for p in group.paulis]
                basis = ["I"] * self.n_qubits
                for m in members:
                    for i, ch in enumerate(m):
                        if ch != "I":
                            basis[i] = ch
                self.bases.append("".join(basis))
                self.members.append(members)

    def circuits(self, body: QuantumCircuit) -> list[QuantumCircuit]:
        """``body`` followed by each basis change and a measurement of every qubit into ``meas``."""
        out = []
        for basis in self.bases:
            qc = body.copy()
            reg = ClassicalRegister(self.n_qubits, "meas")
            qc.add_register(reg)
            for q in range(self.n_qubits):
                ch = basis[self.n_qubits - 1 - q]
                if ch == "X":
                    qc.h(q)
                elif ch == "Y":
                    qc.sdg(q)
                    qc.h(q)
            qc.measure(range(self.n_qubits), reg)
            out.append(qc)
        return out

    def estimate(self, counts: list[list[dict[str, int]]]) -> np.ndarray:
        """``(N, n_obs)`` estimates from ``counts[basis][row]`` (keys: the ``meas`` bits)."""
        n_rows = len(counts[0]) if counts else 1
        term_value: dict[str, np.ndarray] = {"I" * self.n_qubits: np.ones(n_rows)}
        for members, per_row in zip(self.members, counts, strict=True):
            masks = {m: _mask(m) for m in members}
            values = {m: np.empty(n_rows) for m in members}
            for r, c in enumerate(per_row):
                keys = np.array([int(k, 2) for k in c], dtype=np.int64)
                hits = np.array(list(c.values()), dtype=np.float64)
                total = hits.sum()
                for m, mask in masks.items():
                    parity = _parity(keys & mask)
                    values[m][r] = np.dot(1.0 - 2.0 * parity, hits) / total
            term_value.update(values)
        out = np.zeros((n_rows, len(self.observables)))
        for j, o in enumerate(self.observables):
            for p, c in zip(o.paulis, o.coeffs, strict=True):
                out[:, j] += c.real * term_value[p.to_label()]
        return out


def _mask(label: str) -> int:
    n = len(label)
    return sum(1 << q for q in range(n) if label[n - 1 - q] != "I")


def _parity(x: np.ndarray) -> np.ndarray:
    p = np.zeros_like(x)
    while np.any(x):
        p ^= x & 1
        x = x >> 1
    return p.astype(np.float64)
