"""UCCSD excitations and their Pauli generators (Jordan-Wigner, the mapping of chemistry.molecules).

An excitation ``(i, a)`` or ``(i, j, a, b)`` moves electrons from occupied spin orbitals ``i, j`` to
virtual ``a, b`` of the HF determinant (spin orbital ``2 * spatial + spin``, alpha even). Its
Hermitian generator ``G = i (T - T^dagger)`` makes the UCC factor ``exp(theta (T - T^dagger)) =
exp(-i theta G)``, which is Qiskit's ``PauliEvolutionGate(G, time=theta)``. The Pauli terms of one
excitation commute, so the factor is exactly the product of their exponentials.
"""

from __future__ import annotations

from functools import lru_cache

from qiskit.quantum_info import SparsePauliOp

Excitation = tuple[int, ...]


def _occupied(n_qubits: int, n_alpha: int, n_beta: int) -> tuple[list[int], list[int]]:
    for label, v in (("n_qubits", n_qubits), ("n_alpha", n_alpha), ("n_beta", n_beta)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{label} must be a non-negative integer, got {v!r}")
    if n_qubits % 2:
        raise ValueError(f"n_qubits must be even (two spin orbitals per spatial orbital), got {n_qubits}")
    if max(n_alpha, n_beta) > n_qubits // 2:
        raise ValueError(f"{n_alpha} alpha / {n_beta} beta electrons do not fit in {n_qubits // 2} orbitals")
    occ = [2 * k for k in range(n_alpha)] + [2 * k + 1 for k in range(n_beta)]
    virt = [q for q in range(n_qubits) if q not in set(occ)]
    return sorted(occ), virt


def uccsd_excitations(
    n_qubits: int, n_alpha: int, n_beta: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int, int, int]]]:
    """Spin-conserving singles ``(i, a)`` and doubles ``(i, j, a, b)`` (i<j occupied, a<b virtual)."""
    occ, virt = _occupied(n_qubits, n_alpha, n_beta)
    singles = [(i, a) for i in occ for a in virt if i % 2 == a % 2]
    doubles = [
        (i, j, a, b)
        for ii, i in enumerate(occ) for j in occ[ii + 1:]
        for aa, a in enumerate(virt) for b in virt[aa + 1:]
        if (i % 2 + j % 2) == (a % 2 + b % 2)
    ]
    return singles, doubles


def _check(excitation, n_qubits: int) -> Excitation:
    exc = tuple(int(k) for k in excitation)
    if len(exc) not in (2, 4):
        raise ValueError(f"an excitation is (i, a) or (i, j, a, b), got {excitation!r}")
    if len(set(exc)) != len(exc) or not all(0 <= k < n_qubits for k in exc):
        raise ValueError(f"excitation {excitation!r} needs distinct spin orbitals in 0..{n_qubits - 1}")
    return exc


@lru_cache(maxsize=4096)
def _generator(exc: Excitation, n_qubits: int) -> SparsePauliOp:
    from pennylane.fermi import FermiSentence, FermiWord

    from chemistry.molecules import _map, _to_sparse_pauli_op

    if len(exc) == 2:
        i, a = exc
        t = FermiWord({(0, a): "+", (1, i): "-"})
    else:
        i, j, a, b = exc
        t = FermiWord({(0, a): "+", (1, b): "+", (2, j): "-", (3, i): "-"})
    # G = i (T - T^dagger): PennyLane keeps the coefficients complex until the mapping
    sentence = FermiSentence({t: 1j, t.adjoint(): -1j})
    return _to_sparse_pauli_op(_map(sentence, n_qubits, "jordan_wigner"), n_qubits)


def excitation_generator(excitation, n_qubits: int) -> SparsePauliOp:
    """Hermitian ``G = i (T - T^dagger)``; ``exp(-i theta G)`` is the UCC factor of the excitation."""
    return _generator(_check(excitation, n_qubits), int(n_qubits))


def excitation_pauli_terms(excitation, n_qubits: int) -> list[tuple[str, float]]:
    """``(label, coefficient)`` of ``G``'s Pauli strings (2 for a single, 8 for a double)."""
    g = excitation_generator(excitation, n_qubits)
    return [(p.to_label(), float(c.real)) for p, c in zip(g.paulis, g.coeffs, strict=True)]


def uccsd_pauli_pool(n_qubits: int, n_alpha: int, n_beta: int) -> list[str]:
    """The distinct Pauli strings of all UCCSD generators (the GQE paper's operator pool)."""
    singles, doubles = uccsd_excitations(n_qubits, n_alpha, n_beta)
    labels: dict[str, None] = {}
    for exc in [*singles, *doubles]:
        for label, _ in excitation_pauli_terms(exc, n_qubits):
            labels[label] = None
    return list(labels)
