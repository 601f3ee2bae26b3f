"""chemistry.auger.labels: <S^2> equals its ladder-operator definition, and a state's name (spatial
holes summed over spin, S) does not change when the eigensolver breaks a tie differently: a nudge
towards either of two spin-flipped determinants of a singlet, or any rotation among degenerate
states (issue 15: the largest determinant did change, and the Auger test picked the wrong line)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyscf")

from chemistry.auger.labels import (  # noqa: E402
    dominant_determinant,
    spin_squared_matrix,
    state_characters,
)
from chemistry.eom import exact_ionised_states  # noqa: E402
from chemistry.fermion_ops import annihilate, create  # noqa: E402
from circuits.errors import ChemistryError  # noqa: E402


def _dications(mol, spin_z: int = 0):
    """Exact dication states of ``mol`` in the S_z = ``spin_z`` sector (2 electrons removed)."""
    n_a, n_b = (mol.n_alpha - 1, mol.n_beta - 1) if spin_z == 0 else (mol.n_alpha - 2, mol.n_beta)
    return exact_ionised_states(mol.hamiltonian, mol.n_qubits, n_a, n_b)


def test_spin_squared_matches_the_ladder_operator_definition():
    n = 8
    eye = np.eye(2**n, dtype=complex)
    s_plus = sum(create(annihilate(eye, 2 * p + 1), 2 * p) for p in range(n // 2)).T  # columns: S+ e_j
    occ = np.array([[(j >> q) & 1 for q in range(n)] for j in range(2**n)])
    s_z = np.diag(0.5 * (occ[:, 0::2].sum(1) - occ[:, 1::2].sum(1)))
    s2 = 0.5 * (s_plus @ s_plus.conj().T + s_plus.conj().T @ s_plus) + s_z @ s_z
    rng = np.random.default_rng(0)
    states = rng.normal(size=(3, 2**n)) + 1j * rng.normal(size=(3, 2**n))
    np.testing.assert_allclose(spin_squared_matrix(states), states.conj() @ s2 @ states.T, atol=1e-10)


def test_multiplets_share_one_name_and_spins_are_exact(molecules):
    mol = molecules("H2O", (4, 4))
    hf = mol.hf_bitstring
    zero = _dications(mol, 0)
    minus = _dications(mol, -1)
    _, names0 = state_characters(zero.states, zero.energies, hf)
    _, names1 = state_characters(minus.states, minus.energies, hf)
    assert all(c.spin in (0.0, 1.0) and abs(c.spin_squared - c.spin * (c.spin + 1)) < 1e-9 for c in names0)
    assert all(c.spin == 1.0 for c in names1)  # S_z = -1 holds triplet components only (2 electrons)
    assert {c.spin for c in names0} == {0.0, 1.0}
    # every M_S = -1 triplet has its M_S = 0 partner at the same energy with the same name
    for e, c in zip(minus.energies, names1, strict=True):
        partner = int(np.argmin(np.abs(zero.energies - e)))
        assert abs(zero.energies[partner] - e) < 1e-9
        assert names0[partner].label == c.label and names0[partner].holes == c.holes
    assert all(c.label.endswith("S=1 (triplet)") for c in names1)


def test_label_does_not_follow_the_tie_between_spin_flipped_determinants(molecules):
    """In an open-shell singlet |ia jb> and |ib ja> carry equal weight: the old name (largest
    determinant) flips with a 1e-9 nudge either way, the new one does not."""
    mol = molecules("H2O", (4, 4))
    hf = mol.hf_bitstring
    zero = _dications(mol, 0)
    states, names = state_characters(zero.states, zero.energies, hf)
    tied = []
    for k, c in enumerate(names):
        mags = np.sort(np.abs(states[k]))[::-1]
        if c.spin == 0 and abs(mags[0] - mags[1]) < 1e-12 and len(set(c.holes)) == len(c.holes):
            tied.append(k)
    assert tied, "water CAS(4,4) has open-shell singlet dications"
    for k in tied:
        psi = states[k]
        d1, d2 = np.argsort(-np.abs(psi))[:2]
        nudged = []
        for d in (d1, d2):
            phi = psi.copy()
            phi[d] += 1e-9 * psi[d] / abs(psi[d])
            nudged.append(phi / np.linalg.norm(phi))
        old = [dominant_determinant(phi, hf) for phi in nudged]
        assert old[0].split("(")[0] != old[1].split("(")[0]  # the old name follows the nudge
        new = [state_characters(phi[None], zero.energies[k : k + 1], hf)[1][0] for phi in nudged]
        assert new[0].label == new[1].label == names[k].label
        assert new[0].spin == 0.0 and new[0].holes == names[k].holes


def test_names_survive_any_rotation_among_degenerate_states(hydrogen_fluoride):
    """HF's pi orbitals make Pi and Delta dication levels degenerate: eigh returns some basis of
    each level; a random unitary mix of it must give the same names (and spins, in the same order)."""
    mol = hydrogen_fluoride
    hf = mol.hf_bitstring
    dic = _dications(mol, 0)
    e = dic.energies
    levels = [np.flatnonzero(np.abs(e - x) < 1e-8) for x in e]
    degenerate = {tuple(lv) for lv in levels if len(lv) > 1}
    assert len(degenerate) >= 5
    rng = np.random.default_rng(7)
    mixed = dic.states.copy()
    for lv in degenerate:
        lv = np.asarray(lv)
        q, _ = np.linalg.qr(rng.normal(size=(len(lv), len(lv))) + 1j * rng.normal(size=(len(lv), len(lv))))
        mixed[lv] = q @ dic.states[lv]
    ref_states, ref = state_characters(dic.states, e, hf)
    new_states, new = state_characters(mixed, e, hf)
    assert [c.label for c in new] == [c.label for c in ref]
    assert [c.spin for c in new] == [c.spin for c in ref]
    np.testing.assert_allclose([c.weight for c in new], [c.weight for c in ref], atol=1e-9)
    # the returned states span the same levels, each a spin eigenstate
    for lv in degenerate:
        lv = np.asarray(lv)
        overlap = ref_states[lv].conj() @ new_states[lv].T  # unitary iff both span the same space
        np.testing.assert_allclose(overlap @ overlap.conj().T, np.eye(len(lv)), atol=1e-8)
    s2 = np.real(np.diag(spin_squared_matrix(new_states)))
    np.testing.assert_allclose(s2, [c.spin * (c.spin + 1) for c in new], atol=1e-8)
    # the old name (largest determinant) does depend on the basis inside a level
    old = [dominant_determinant(dic.states[k], hf) for k in range(len(e))]
    old_mixed = [dominant_determinant(mixed[k], hf) for k in range(len(e))]
    assert old != old_mixed


def test_bad_input():
    with pytest.raises(ChemistryError, match="energies"):
        state_characters(np.zeros((2, 16)), [0.0], "0011")
    with pytest.raises(ChemistryError, match="hf_bitstring"):
        state_characters(np.zeros((1, 8)), [0.0], "011")
    with pytest.raises(ChemistryError, match="needs 256"):
        state_characters(np.zeros((1, 16)), [0.0], "00001111")
