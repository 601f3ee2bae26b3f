"""UCCSD excitations and their Pauli generators (Jordan-Wigner, the mapping of chemistry.mapping).

An excitation ``(i, a)`` or ``(i, j, a, b)`` moves electrons from occupied spin orbitals ``i, j`` to
virtual ``a, b`` of the HF determinant (spin orbital ``2 * spatial + spin``, alpha even). Its
Hermitian generator ``G = i (T - T^dagger)`` makes the UCC factor ``exp(theta (T - T^dagger)) =
exp(-i theta G)``, which is Qiskit's ``PauliEvolutionGate(G, time=theta)``. The Pauli terms of one
excitation commute, so the factor is exactly the product of their exponentials.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from circuits.errors import ChemistryError

__all__ = [
    "excitation_generator",
    "excitation_pauli_terms",
    "uccsd_excitations",
    "uccsd_pauli_pool",
]

Excitation = tuple[int, ...]


def _count(label: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ChemistryError(f"{label} must be a non-negative integer, got {value!r}")
    return int(value)


def _occupied(n_qubits: int, n_alpha: int, n_beta: int) -> tuple[list[int], list[int]]:
    """Occupied and virtual spin orbitals of the HF determinant (lowest alpha / beta orbitals)."""
    n_qubits = _count("n_qubits", n_qubits)
    n_alpha, n_beta = _count("n_alpha", n_alpha), _count("n_beta", n_beta)
    if n_qubits == 0 or n_qubits % 2:
        raise ChemistryError(
            f"n_qubits must be even and positive (two spin orbitals per spatial orbital), got {n_qubits}"
        )
    if max(n_alpha, n_beta) > n_qubits // 2:
        raise ChemistryError(
            f"{n_alpha} alpha / {n_beta} beta electrons do not fit in {n_qubits // 2} orbitals"
        )
    occ = sorted([2 * k for k in range(n_alpha)] + [2 * k + 1 for k in range(n_beta)])
    taken = set(occ)
    return occ, [q for q in range(n_qubits) if q not in taken]


def uccsd_excitations(
    n_qubits: int, n_alpha: int, n_beta: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int, int, int]]]:
    """Spin-conserving singles ``(i, a)`` and doubles ``(i, j, a, b)`` (i<j occupied, a<b virtual).

    Ordered lexicographically (by ``i``, then ``j``, ``a``, ``b``); a double conserves ``S_z`` when
    as many alpha (even) orbitals are emptied as are filled.
    """
    occ, virt = _occupied(n_qubits, n_alpha, n_beta)
    singles = [(i, a) for i in occ for a in virt if i % 2 == a % 2]
    doubles = [
        (i, j, a, b)
        for ii, i in enumerate(occ)
        for j in occ[ii + 1 :]
        for aa, a in enumerate(virt)
        for b in virt[aa + 1 :]
        if (i % 2 + j % 2) == (a % 2 + b % 2)
    ]
    return singles, doubles


def _check(excitation, n_qubits) -> tuple[Excitation, int]:
    n_qubits = _count("n_qubits", n_qubits)
    try:
        exc = tuple(excitation)
    except TypeError:
        raise ChemistryError(f"an excitation is (i, a) or (i, j, a, b), got {excitation!r}") from None
    if len(exc) not in (2, 4) or not all(
        isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in exc
    ):
        raise ChemistryError(f"an excitation is (i, a) or (i, j, a, b) of integers, got {excitation!r}")
    exc = tuple(int(k) for k in exc)
    if len(set(exc)) != len(exc) or not all(0 <= k < n_qubits for k in exc):
        raise ChemistryError(f"excitation {excitation!r} needs distinct spin orbitals in 0..{n_qubits - 1}")
    return exc, n_qubits


@lru_cache(maxsize=8192)
def _generator(exc: Excitation, n_qubits: int) -> SparsePauliOp:
    from pennylane.fermi import FermiSentence, FermiWord

    from chemistry.mapping import _map, _to_sparse_pauli_op

    if len(exc) == 2:
        i, a = exc
        t = FermiWord({(0, a): "+", (1, i): "-"})  # a+_a a_i
    else:
        i, j, a, b = exc
        t = FermiWord({(0, a): "+", (1, b): "+", (2, j): "-", (3, i): "-"})  # a+_a a+_b a_j a_i
    sentence = FermiSentence({t: 1j, t.adjoint(): -1j})  # G = i (T - T^dagger)
    op = _to_sparse_pauli_op(_map(sentence, n_qubits, "jordan_wigner"), n_qubits)
    order = np.argsort(op.paulis.to_labels())  # independent of PennyLane's dict order
    return SparsePauliOp(op.paulis[order], op.coeffs[order])


def excitation_generator(excitation, n_qubits: int) -> SparsePauliOp:
    """Hermitian ``G = i (T - T^dagger)``; ``exp(-i theta G)`` is the UCC factor of the excitation.

    ``T = a+_a a_i`` for ``(i, a)`` and ``a+_a a+_b a_j a_i`` for ``(i, j, a, b)``; the
    Jordan-Wigner strings are in Qiskit order (qubit 0 right-most), coefficients real.
    """
    exc, n = _check(excitation, n_qubits)
    return _generator(exc, n).copy()


def excitation_pauli_terms(excitation, n_qubits: int) -> list[tuple[str, float]]:
    """``(label, coefficient)`` of ``G``'s Pauli strings (2 of +-1/2 for a single, 8 of +-1/8 for a
    double); they commute, so ``exp(-i theta G) = prod_j exp(-i theta c_j P_j)`` in any order."""
    exc, n = _check(excitation, n_qubits)
    g = _generator(exc, n)
    return [(p, float(c.real)) for p, c in zip(g.paulis.to_labels(), g.coeffs, strict=True)]


def uccsd_pauli_pool(n_qubits: int, n_alpha: int, n_beta: int) -> list[str]:
    """The distinct Pauli strings of all UCCSD generators, in excitation order (the GQE pool)."""
    singles, doubles = uccsd_excitations(n_qubits, n_alpha, n_beta)
    labels: dict[str, None] = {}
    for exc in [*singles, *doubles]:
        for label, _ in excitation_pauli_terms(exc, n_qubits):
            labels[label] = None
    return list(labels)
