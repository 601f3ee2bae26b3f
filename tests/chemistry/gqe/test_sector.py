"""chemistry.gqe.sector and refine: candidate energies on the reachable sector equal the full
state-vector path (and Qiskit's), the sector is the right size, tokens that leave it are refused, and
angle refinement of a GQE circuit keeps its structure while reaching the ansatz's minimum."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
import torch
from qiskit.quantum_info import SparsePauliOp, Statevector

pytest.importorskip("transformers")

from chemistry.gqe.energy import CandidateEnergies  # noqa: E402
from chemistry.gqe.pool import (  # noqa: E402
    OperatorPool,
    excitation_pool,
    molecule_pool,
    pauli_pool,
    screened_pool,
)
from chemistry.gqe.refine import refine_angles  # noqa: E402
from chemistry.gqe.sector import initial_gradients, reachable_sector  # noqa: E402


def test_sector_energies_equal_state_vector_on_water_cas44(molecules):
    mol = molecules("H2O", (4, 4))
    pool = excitation_pool(mol.n_qubits, mol.n_alpha, mol.n_beta)
    basis = reachable_sector(pool, mol.hf_bitstring)
    assert basis.size == comb(4, 2) ** 2  # N and S_z conserved: 2 alpha and 2 beta in 4 orbitals each
    ids = torch.randint(0, len(pool), (12, 15), generator=torch.Generator().manual_seed(2))
    auto = CandidateEnergies(mol.hamiltonian, pool, mol.hf_bitstring)
    assert auto.engine == "sector"
    fast = auto(ids)
    full = CandidateEnergies(mol.hamiltonian, pool, mol.hf_bitstring, engine="statevector")(ids)
    np.testing.assert_allclose(fast, full, atol=1e-11)
    assert np.ptp(fast) > 1e-2  # the candidates differ: equal energies are not a constant
    e = Statevector(pool.sequence(ids[0].tolist()).to_circuit(mol.hf_bitstring)).expectation_value(
        mol.hamiltonian
    )
    assert abs(e.real - fast[0]) < 1e-9


def test_frozen_core_shrinks_the_sector(molecules):
    mol = molecules("LiH")  # 12 qubits, Li 1s below -2 Ha stays doubly occupied
    pool = molecule_pool(mol)
    assert pool.frozen == (0,)
    assert reachable_sector(pool, mol.hf_bitstring).size == 5**2  # 1 alpha, 1 beta in 5 orbitals
    ids = torch.randint(0, len(pool), (6, 10), generator=torch.Generator().manual_seed(0))
    fast = CandidateEnergies(mol.hamiltonian, pool, mol.hf_bitstring, engine="sector")(ids)
    full = CandidateEnergies(mol.hamiltonian, pool, mol.hf_bitstring, engine="statevector")(ids)
    np.testing.assert_allclose(fast, full, atol=1e-11)


def test_sector_path_on_a_complex_pauli_pool_and_its_refusals():
    # single Pauli strings: complex amplitudes, sector = everything reachable by bit flips
    rng = np.random.default_rng(1)
    h = SparsePauliOp.from_list([(p, rng.normal()) for p in ["ZZI", "XIX", "IYY", "ZII", "XYZ"]])
    pool = pauli_pool(["XYI", "IZX", "YYY", "ZIZ"], angles=[0.3, -0.7], n_qubits=3)
    ids = torch.as_tensor(rng.integers(0, len(pool), size=(5, 6)))
    sector = CandidateEnergies(h, pool, "101", engine="sector")(ids)
    full = CandidateEnergies(h, pool, "101", engine="statevector")(ids)
    np.testing.assert_allclose(sector, full, atol=1e-12)
    with pytest.raises(ValueError, match="commute"):
        bad = OperatorPool(2, [[("II", 0.0)], [("XI", 0.1), ("ZI", 0.2)]], ["I", "xz"])
        reachable_sector(bad, "00")
    with pytest.raises(ValueError, match="more than 2 basis states"):
        reachable_sector(pauli_pool(["XI", "IX"], [0.1], 2), "00", limit=2)


def test_refine_reaches_uccsd_minimum_with_the_same_structure(molecules):
    mol = molecules("H2")
    pool = excitation_pool(mol.n_qubits, mol.n_alpha, mol.n_beta)
    double = pool.names.index("exc(0, 1, 2, 3)(+0.1)")
    tokens = [0, double, double, 0]  # the double excitation twice at the pool's angle: merged into one
    before = CandidateEnergies(mol.hamiltonian, pool, mol.hf_bitstring)(torch.tensor([tokens]))[0]
    refined = refine_angles(mol.hamiltonian, pool, tokens, mol.hf_bitstring)
    assert refined.energy_before == pytest.approx(before, abs=1e-12)
    assert refined.scales.shape == (1,)
    assert refined.energy == pytest.approx(mol.energies["fci"], abs=1e-8)  # H2: one double is exact
    assert before - refined.energy > 1e-4
    assert len(refined.sequence) == len(pool.tokens[double])  # one excitation's Pauli strings
    e = Statevector(refined.sequence.to_circuit(mol.hf_bitstring)).expectation_value(mol.hamiltonian)
    assert e.real == pytest.approx(refined.energy, abs=1e-9)


def test_initial_gradients_match_finite_differences_and_screen_the_pool(molecules):
    mol = molecules("H2O", (4, 4))
    pool = excitation_pool(mol.n_qubits, mol.n_alpha, mol.n_beta, angles=[1e-4, -1e-4])
    grad = initial_gradients(pool, mol.hamiltonian, mol.hf_bitstring)
    energies = CandidateEnergies(mol.hamiltonian, pool, mol.hf_bitstring)(torch.arange(len(pool))[:, None])
    fd = (energies[1::2] - energies[2::2]) / 2  # token +1e-4 and -1e-4 of each excitation
    np.testing.assert_allclose(grad[1::2], fd, atol=1e-10)
    assert np.abs(grad).max() > 1e-6 and grad[0] == 0.0
    screened = screened_pool(pool, mol.hamiltonian, mol.hf_bitstring)
    kept = [pool.names.index(n) for n in screened.names]
    assert kept[0] == 0 and all(abs(grad[j]) > 1e-8 for j in kept[1:])
    assert len(screened) - 1 == int((np.abs(grad) > 1e-8).sum()) < len(pool) - 1
    assert not any(len(pool.tokens[j]) == 2 for j in kept[1:])  # singles: zero gradient on HF


def test_refine_max_angle_bounds_every_rotation(molecules):
    """``max_angle`` caps each token's |theta| (the refit otherwise may use large, nearly cancelling
    angles that q-sc-EOM cannot use); a binding bound ends on the bound, between the sampled energy and
    the free optimum."""
    mol = molecules("H2")
    pool = excitation_pool(mol.n_qubits, mol.n_alpha, mol.n_beta)
    double = pool.names.index("exc(0, 1, 2, 3)(+0.1)")
    free = refine_angles(mol.hamiltonian, pool, [double], mol.hf_bitstring)
    theta = float(free.rotation_angles[0])
    assert theta == pytest.approx(abs(0.1 * free.scales[0]), rel=1e-12)  # |theta| of exp(-i theta G)
    assert 0.05 < theta < 0.5
    bound = theta / 2
    capped = refine_angles(mol.hamiltonian, pool, [double], mol.hf_bitstring, max_angle=bound)
    assert capped.rotation_angles[0] <= bound * (1 + 1e-9)
    assert capped.rotation_angles[0] == pytest.approx(bound, rel=1e-3)  # the energy falls towards theta*
    assert free.energy < capped.energy < capped.energy_before
    e = Statevector(capped.sequence.to_circuit(mol.hf_bitstring)).expectation_value(mol.hamiltonian)
    assert e.real == pytest.approx(capped.energy, abs=1e-9)
    loose = refine_angles(mol.hamiltonian, pool, [double], mol.hf_bitstring, max_angle=2 * theta)
    assert loose.energy == pytest.approx(free.energy, abs=1e-9)  # a bound that does not bind
    with pytest.raises(ValueError, match="max_angle"):
        refine_angles(mol.hamiltonian, pool, [double], mol.hf_bitstring, max_angle=0.0)


def test_refine_merges_a_run_that_cancels_and_continues(molecules):
    """``+t, -t, +2t`` of one generator is one rotation by ``2t`` (this used to divide by the zero
    angle left after ``+t, -t``); ``+t, -t`` alone is the identity."""
    mol = molecules("H2")
    pool = excitation_pool(mol.n_qubits, mol.n_alpha, mol.n_beta)
    plus, minus, double = (pool.names.index(f"exc(0, 1, 2, 3)({a})") for a in ("+0.025", "-0.025", "+0.05"))
    cost = CandidateEnergies(mol.hamiltonian, pool, mol.hf_bitstring)
    before = cost(torch.tensor([[plus, minus, double]]))[0]
    assert before == pytest.approx(cost(torch.tensor([[double]]))[0], abs=1e-12)
    refined = refine_angles(mol.hamiltonian, pool, [plus, minus, double], mol.hf_bitstring)
    assert refined.energy_before == pytest.approx(before, abs=1e-12)
    assert refined.scales.shape == (1,)
    assert refined.energy == pytest.approx(mol.energies["fci"], abs=1e-8)
    empty = refine_angles(mol.hamiltonian, pool, [plus, minus], mol.hf_bitstring)
    assert empty.scales.shape == (0,) and empty.energy == pytest.approx(mol.energies["hf"], abs=1e-9)
