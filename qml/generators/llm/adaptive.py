"""Adaptive VQE (the paper's third method): grow a circuit one pool gate at a time on the torch engine.

The pool is RX/RY/RZ on every qubit and CRX/CRY/CRZ on every ordered pair, as the paper's
``qml.AdaptiveOptimizer`` pool. Each step adds the unused gate whose energy gradient at angle 0
is largest (``drain_pool``: a gate is used once), then optimises every angle with ``inner_steps``
of Adam; it stops when the largest gradient is below ``grad_tol`` (3e-3), after ``max_gates``
(100) gates, or when the pool is drained. The circuit starts from H on every qubit (inferred: from
|0...0> every pool gradient of a diagonal Hamiltonian is zero).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector

from circuits import statevector

from .hamiltonians import diagonal

__all__ = ["adaptive_circuit", "adaptive_vqe", "pool"]

Gate = tuple[str, tuple[int, ...]]


def pool(n_qubits: int) -> list[Gate]:
    """RX, RY, RZ on every qubit, then CRX, CRY, CRZ on every ordered pair (control, target)."""
    single = [(g, (q,)) for q in range(n_qubits) for g in ("rx", "ry", "rz")]
    pairs = [
        (g, (c, t)) for c in range(n_qubits) for t in range(n_qubits) if c != t for g in ("crx", "cry", "crz")
    ]
    return single + pairs


def adaptive_circuit(n_qubits: int, gates: Sequence[Gate], angles) -> QuantumCircuit:
    """H on every qubit, then ``gates`` with ``angles`` (numbers or parameters)."""
    qc = QuantumCircuit(n_qubits)
    qc.h(range(n_qubits))
    for (name, qubits), angle in zip(gates, angles, strict=True):
        getattr(qc, name)(angle, *qubits)
    return qc


def _energy(n: int, gates: Sequence[Gate], theta: torch.Tensor, diag: torch.Tensor) -> torch.Tensor:
    qc = adaptive_circuit(n, gates, ParameterVector("a", len(gates)))
    probs = statevector(qc, theta[None], dtype="complex128").abs().square()
    return (probs * diag).sum(1)[0]


def pool_gradients(psi: np.ndarray, diag: np.ndarray, candidates: Sequence[Gate]) -> np.ndarray:
    """``dE/dangle`` at angle 0 of each candidate appended to the state ``psi`` (qubit 0 the lowest
    bit): ``2 Im <psi|H G|psi>`` for the gate ``exp(-i angle G)``, ``G = P / 2`` (times the
    control's ``|1><1|`` for a controlled rotation)."""
    index = np.arange(len(psi))
    h_psi = np.conj(diag * psi)
    out = np.empty(len(candidates))
    for k, (name, qubits) in enumerate(candidates):
        t = qubits[-1]
        bit = (index >> t) & 1
        axis = name[-1]
        if axis == "x":
            g = psi[index ^ (1 << t)]
        elif axis == "y":
            g = psi[index ^ (1 << t)] * np.where(bit == 1, 1j, -1j)
        else:
            g = psi * (1 - 2 * bit)
        if len(qubits) == 2:
            g = g * ((index >> qubits[0]) & 1)
        out[k] = 2 * np.imag(np.sum(h_psi * g / 2))
    return out


def adaptive_vqe(
    hamiltonian, *, max_gates: int = 100, grad_tol: float = 3e-3, inner_steps: int = 10, lr: float = 0.01
) -> tuple[list[Gate], list[float], float]:
    """Grow and optimise a circuit for the diagonal ``hamiltonian``; returns (gates, angles, energy)."""
    n = hamiltonian.num_qubits
    diag = torch.as_tensor(diagonal(hamiltonian))
    gates: list[Gate] = []
    theta = torch.zeros(0, dtype=torch.float64)
    unused = pool(n)
    while unused and len(gates) < max_gates:
        psi = statevector(adaptive_circuit(n, gates, theta.tolist()), dtype="complex128")[0].numpy()
        grads = np.abs(pool_gradients(psi, diag.numpy(), unused))
        k = int(np.argmax(grads))
        if grads[k] < grad_tol:
            break
        gates.append(unused.pop(k))
        theta = torch.cat([theta, torch.zeros(1, dtype=torch.float64)]).requires_grad_(True)
        adam = torch.optim.Adam([theta], lr=lr)
        for _ in range(inner_steps):
            adam.zero_grad()
            _energy(n, gates, theta, diag).backward()
            adam.step()
        theta = theta.detach()
    energy = float(_energy(n, gates, theta, diag)) if gates else float(diag.mean())
    return gates, theta.tolist(), energy
