"""chemistry.pauli_evolution: batched Pauli exponentials equal Qiskit's Statevector of the same
PauliEvolutionGate circuit, per-sample sequences equal one-at-a-time runs, energies equal
SparsePauliOp expectations and angle gradients equal finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit.quantum_info import SparsePauliOp, Statevector, random_hermitian

from chemistry.pauli_evolution import (
    PauliTable,
    SparseHamiltonian,
    basis_states,
    evolve,
    pauli_masks,
    to_circuit,
)

rng = np.random.default_rng(7)


def random_labels(n_qubits: int, count: int) -> list[str]:
    return ["".join(rng.choice(list("IXYZ"), size=n_qubits)) for _ in range(count)]


def random_state(n_qubits: int, batch: int) -> torch.Tensor:
    psi = rng.normal(size=(batch, 2**n_qubits)) + 1j * rng.normal(size=(batch, 2**n_qubits))
    psi /= np.linalg.norm(psi, axis=1, keepdims=True)
    return torch.as_tensor(psi)


@pytest.mark.parametrize("n_qubits", [1, 3, 5])
def test_single_pauli_matches_operator(n_qubits):
    labels = random_labels(n_qubits, 12)
    table = PauliTable.build(labels, n_qubits)
    psi = random_state(n_qubits, 2)
    for j, label in enumerate(labels):
        ref = psi.numpy() @ SparsePauliOp(label).to_matrix().T
        np.testing.assert_allclose(table.apply(psi, j).numpy(), ref, atol=1e-12)


@pytest.mark.parametrize("n_qubits", [2, 4, 6])
def test_sequence_matches_qiskit_circuit(n_qubits):
    labels = random_labels(n_qubits, 9)
    angles = rng.uniform(-np.pi, np.pi, size=9)
    table = PauliTable.build(labels, n_qubits)
    init = "".join(rng.choice(["0", "1"], size=n_qubits))
    out = evolve(basis_states([init]), table, list(range(9)), angles)[0].numpy()
    ref = Statevector(to_circuit(labels, angles, n_qubits, initial_bitstring=init)).data
    np.testing.assert_allclose(out, ref, atol=1e-7)  # global phase included (identity steps)


def test_per_sample_sequences_equal_separate_runs():
    n, batch, length = 4, 5, 7
    labels = random_labels(n, 10)
    table = PauliTable.build(labels, n)
    which = torch.as_tensor(rng.integers(0, 10, size=(batch, length)))
    angles = torch.as_tensor(rng.uniform(-1, 1, size=(batch, length)))
    psi = random_state(n, batch)
    together = evolve(psi, table, which, angles)
    for b in range(batch):
        alone = evolve(psi[b : b + 1], table, which[b], angles[b])
        np.testing.assert_allclose(together[b].numpy(), alone[0].numpy(), atol=1e-12)


def test_energy_matches_sparse_pauli_op_and_gradient_matches_finite_differences():
    n = 4
    h = SparsePauliOp.from_operator(random_hermitian(2**n, seed=3))
    ham = SparseHamiltonian(h)
    labels = random_labels(n, 6)
    table = PauliTable.build(labels, n)
    init = basis_states(["0101"])
    theta = torch.tensor(rng.uniform(-1, 1, size=6), requires_grad=True)
    psi = evolve(init, table, list(range(6)), theta)
    e = ham.energy(psi)
    ref = Statevector(psi[0].detach().numpy()).expectation_value(h).real
    assert abs(float(e[0]) - ref) < 1e-10
    (grad,) = torch.autograd.grad(e.sum(), theta)

    def energy(t):
        return float(ham.energy(evolve(init, table, list(range(6)), torch.as_tensor(t)))[0])

    eps = 1e-6
    for k in range(6):
        tp, tm = theta.detach().numpy().copy(), theta.detach().numpy().copy()
        tp[k] += eps
        tm[k] -= eps
        assert abs((energy(tp) - energy(tm)) / (2 * eps) - float(grad[k])) < 1e-7


def test_masks_and_bad_input():
    x, z, ny = pauli_masks(["XYZI"], 4)  # qubit 0 is the right-most character
    assert (int(x[0]), int(z[0]), int(ny[0])) == (0b1100, 0b0110, 1)
    with pytest.raises(ValueError, match="4 characters"):
        PauliTable.build(["XYZ"], 4)
    with pytest.raises(ValueError, match="I, X, Y, Z"):
        PauliTable.build(["XYZA"], 4)
    table = PauliTable.build(["XXXX"], 4)
    with pytest.raises(ValueError, match="shape"):
        evolve(torch.zeros(1, 8, dtype=torch.complex128), table, [0], [0.1])
    with pytest.raises(ValueError, match="indices"):
        evolve(basis_states(["0000"]), table, [1], [0.1])
    with pytest.raises(ValueError, match="angles"):
        to_circuit(["XXXX"], [0.1, 0.2], 4)


def test_pauli_sequence_apply_inverse_and_circuit():
    from chemistry.pauli_evolution import PauliSequence

    n = 3
    seq = PauliSequence(random_labels(n, 6), rng.uniform(-1, 1, size=6), n)
    psi = random_state(n, 3)
    out = seq.apply(psi)
    ref = np.stack([Statevector(p.numpy()).evolve(seq.to_circuit()).data for p in psi])
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-7)  # qiskit's expm is good to ~1e-8
    np.testing.assert_allclose(seq.inverse().apply(out).numpy(), psi.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="angles"):
        PauliSequence(["XX"], [0.1, 0.2], 2)


def test_simplified_sequence_is_the_same_unitary_with_fewer_steps():
    from chemistry.pauli_evolution import PauliSequence

    n = 3
    pool = random_labels(n, 4)
    labels = [pool[k] for k in rng.integers(0, 4, size=30)] + ["III"]
    seq = PauliSequence(labels, rng.uniform(-1, 1, size=31), n)
    short = seq.simplified()
    assert len(short) < len(seq)
    psi = random_state(n, 2)
    a, b = seq.apply(psi).numpy(), short.apply(psi).numpy()
    phase = np.vdot(b[0], a[0])  # identity steps only change the global phase
    np.testing.assert_allclose(a, phase * b, atol=1e-10)
    assert abs(abs(phase) - 1) < 1e-10
