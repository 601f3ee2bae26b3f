"""Exact diagonalisation of qubit Hamiltonians, optionally in one electron-number sector: the
classical reference every VQE / GQE / q-sc-EOM result is checked against."""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from chemistry.mapping import number_operator
from circuits.errors import ChemistryError

__all__ = ["exact_eigenstates", "exact_ground_state"]


def exact_eigenstates(
    hamiltonian: SparsePauliOp, n_electrons: int | None = None, k: int = 1, *, mapping: str = "jordan_wigner"
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` lowest eigenvalues ``(k,)`` and eigenvectors ``(2**n, k)`` of ``hamiltonian``.

    With ``n_electrons`` the search is restricted to basis states with that particle number (in
    the given qubit ``mapping``), e.g. to find the neutral ground state or (N-1)/(N-2) sectors.
    Uses scipy's sparse ``eigsh`` on ``SparsePauliOp.to_matrix(sparse=True)``; small problems use
    a dense solver.
    """
    import scipy.sparse.linalg as spla

    if not isinstance(hamiltonian, SparsePauliOp):
        raise ChemistryError(f"hamiltonian must be a SparsePauliOp, got {type(hamiltonian).__name__}")
    n = hamiltonian.num_qubits
    dim = 2**n
    matrix = hamiltonian.to_matrix(sparse=True).tocsr()
    if n_electrons is None:
        index = np.arange(dim)
    else:
        if isinstance(n_electrons, bool) or not isinstance(n_electrons, (int, np.integer)):
            raise ChemistryError(f"n_electrons must be an integer, got {n_electrons!r}")
        if not 0 <= n_electrons <= n:
            raise ChemistryError(f"n_electrons={n_electrons} is outside 0..{n} for {n} spin orbitals")
        counts = np.rint(number_operator(n, mapping).to_matrix(sparse=True).diagonal().real).astype(int)
        index = np.flatnonzero(counts == n_electrons)
        matrix = matrix[index][:, index]
    sub = len(index)
    if not 1 <= k <= sub:
        raise ChemistryError(f"k={k} eigenstates requested but the sector has dimension {sub}")
    if sub <= 512 or k >= sub - 1:
        values, vectors = np.linalg.eigh(matrix.toarray())
        values, vectors = values[:k], vectors[:, :k]
    else:
        v0 = np.random.default_rng(0).standard_normal(sub).astype(complex)
        values, vectors = spla.eigsh(matrix, k=k, which="SA", v0=v0, tol=0)
        order = np.argsort(values)
        values, vectors = values[order], vectors[:, order]
    full = np.zeros((dim, k), dtype=complex)
    full[index] = vectors
    return np.asarray(values, dtype=float), full


def exact_ground_state(
    hamiltonian: SparsePauliOp, n_electrons: int | None = None, *, mapping: str = "jordan_wigner"
) -> tuple[float, np.ndarray]:
    """Lowest eigenvalue and eigenvector ``(2**n,)`` (Qiskit order), in the ``n_electrons`` sector if set."""
    values, vectors = exact_eigenstates(hamiltonian, n_electrons, 1, mapping=mapping)
    return float(values[0]), vectors[:, 0]
