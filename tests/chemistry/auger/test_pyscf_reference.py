"""The Auger pipeline's ionised states against pyscf alone: every eigenvalue of our qubit
Hamiltonian in water's cation and dication sectors equals pyscf's FCI Hamiltonian's on the same
integrals, and pyscf's own sudden-ionisation pick (the cation state with the largest overlap with
``a_1s |FCI>``) is the core hole that :func:`chemistry.eom.core_hole_state` picks."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from chemistry import eom


def _pyscf_states(mol, n_alpha: int, n_beta: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(energies, vectors, determinant addresses) of pyscf's full FCI matrix in one (N, S_z) sector."""
    from pyscf import fci

    dim = comb(mol.n_orbitals, n_alpha) * comb(mol.n_orbitals, n_beta)
    addr, h = fci.direct_spin1.pspace(mol.one_body, mol.two_body, mol.n_orbitals, (n_alpha, n_beta), np=dim)
    assert len(addr) == dim
    energies, vectors = np.linalg.eigh(h)
    return energies + mol.constant, vectors, np.asarray(addr)


def test_water_cation_and_dication_spectra_and_core_hole_match_pyscf(molecules):
    from pyscf import fci

    mol = molecules("H2O")
    na, nb, norb = mol.n_alpha, mol.n_beta, mol.n_orbitals
    pyscf_states = {}
    for sector in ((na - 1, nb), (na - 2, nb)):  # the O 1s alpha hole; the same-spin dication
        ours = eom.exact_ionised_states(mol.hamiltonian, mol.n_qubits, *sector)
        pyscf_states[sector] = _pyscf_states(mol, *sector)
        assert len(ours) == comb(norb, sector[0]) * comb(norb, sector[1])
        np.testing.assert_allclose(ours.energies, pyscf_states[sector][0], atol=1e-9)
        if sector == (na - 1, nb):
            cation = ours

    # pyscf only: ground state, a_{1s alpha}|FCI>, the cation state that overlaps it most
    e0, ci0 = fci.direct_spin1.FCI().kernel(mol.one_body, mol.two_body, norb, (na, nb), ecore=mol.constant)
    assert e0 == pytest.approx(mol.energies["fci"], abs=1e-9)
    hole = fci.addons.des_a(ci0, norb, (na, nb), 0).ravel()
    energies, vectors, addr = pyscf_states[(na - 1, nb)]
    weights = np.abs(vectors.T @ hole[addr]) ** 2 / (hole @ hole)
    pick = int(np.argmax(weights))

    _, psi0 = mol.exact_ground_state()
    ours = eom.core_hole_state(cation, 0, ground_state=psi0)
    assert ours.energy == pytest.approx(energies[pick], abs=1e-9)
    assert ours.weight == pytest.approx(weights[pick], abs=1e-6)  # pyscf: Davidson ground state
    assert energies[pick] == pytest.approx(-55.080023, abs=1e-6)  # auger-fci's core hole (committed)
    assert 0.7 < weights[pick] and np.sort(weights)[-2] < 0.2  # one dominant 1s-hole state
