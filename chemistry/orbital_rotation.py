"""Rotate a molecule's active orbitals: same physics, different orbital basis.

Used to check that basis-independent results (FCI energies, Auger rates) really are independent
of the orbitals: ``C' = C U``, ``h' = U^T h U``, ``(pq|rs)' = U U U U (ab|cd)``, a new qubit
Hamiltonian, everything else unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from chemistry.mapping import qubit_hamiltonian
from chemistry.molecules import Molecule
from circuits.errors import ChemistryError


def random_rotation(n: int, seed: int | None = None, fixed: tuple[int, ...] = ()) -> np.ndarray:
    """A random real orthogonal ``n x n`` matrix that leaves the orbitals in ``fixed`` alone."""
    rng = np.random.default_rng(seed)
    free = [k for k in range(n) if k not in set(fixed)]
    q, r = np.linalg.qr(rng.normal(size=(len(free), len(free))))
    q = q * np.sign(np.diag(r))
    u = np.eye(n)
    u[np.ix_(free, free)] = q
    return u


def rotate_orbitals(molecule: Molecule, rotation: np.ndarray) -> Molecule:
    """The molecule in the rotated active orbitals ``phi'_p = sum_a phi_a U_ap`` (``U`` orthogonal)."""
    u = np.asarray(rotation, dtype=float)
    n = molecule.n_orbitals
    if u.shape != (n, n):
        raise ChemistryError(f"rotation must be ({n}, {n}) for {n} active orbitals, got {u.shape}")
    if not np.allclose(u.T @ u, np.eye(n), atol=1e-10):
        raise ChemistryError("rotation must be orthogonal (U^T U = 1)")
    h1 = u.T @ molecule.one_body @ u
    h2 = np.einsum("abcd,ap,bq,cr,ds->pqrs", molecule.two_body, u, u, u, u, optimize=True)
    mo = molecule.mo_coeff.copy()
    mo[:, molecule.active_orbitals] = molecule.mo_coeff[:, molecule.active_orbitals] @ u
    ham = qubit_hamiltonian(h1, h2, molecule.constant, mapping=molecule.mapping)
    return dataclasses.replace(molecule, one_body=h1, two_body=h2, mo_coeff=mo, hamiltonian=ham)
