"""chemistry.excitations / ucc / gate_counts / workflow: generators are the fermionic excitations,
the fast UCCSD energy equals Qiskit's Statevector on the same circuit, its gradient equals finite
differences, UCCSD reaches FCI on H2 and chemical accuracy on LiH(2,3), and gates are counted right."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

pytest.importorskip("pyscf")

from chemistry import number_operator, spin_z_operator  # noqa: E402
from chemistry.circuit_cost import gate_counts  # noqa: E402
from chemistry.excitations import (  # noqa: E402
    excitation_generator,
    excitation_pauli_terms,
    uccsd_excitations,
    uccsd_pauli_pool,
)
from chemistry.fermion_ops import annihilate, create  # noqa: E402
from chemistry.ucc import UCCSDEnergy, run_uccsd  # noqa: E402


def ladder_matrix(n, ops):
    """Dense matrix of a product of ladder operators (right-most acts first) from fermion_ops."""
    basis = np.eye(2**n, dtype=complex)
    out = basis
    for p, dagger in reversed(ops):
        out = create(out, p) if dagger else annihilate(out, p)
    return out.T  # columns: images of basis vectors


@pytest.mark.parametrize("exc", [(0, 2), (1, 5), (0, 1, 2, 3), (0, 3, 4, 7)])
def test_generator_is_i_times_t_minus_t_dagger(exc):
    n = 8
    if len(exc) == 2:
        t = ladder_matrix(n, [(exc[1], True), (exc[0], False)])
    else:
        i, j, a, b = exc
        t = ladder_matrix(n, [(a, True), (b, True), (j, False), (i, False)])
    expected = 1j * (t - t.conj().T)
    np.testing.assert_allclose(excitation_generator(exc, n).to_matrix(), expected, atol=1e-12)


def test_generators_conserve_number_and_spin_and_their_terms_commute():
    n = 8
    singles, doubles = uccsd_excitations(n, 2, 2)
    num, sz = number_operator(n).to_matrix(), spin_z_operator(n).to_matrix()
    for exc in singles[:3] + doubles[:5]:
        g = excitation_generator(exc, n).to_matrix()
        assert np.allclose(g, g.conj().T)
        assert np.allclose(g @ num, num @ g) and np.allclose(g @ sz, sz @ g)
        terms = [
            c * __import__("qiskit").quantum_info.SparsePauliOp(lab).to_matrix()
            for lab, c in excitation_pauli_terms(exc, n)
        ]
        assert len(terms) == (2 if len(exc) == 2 else 8)
        for a in terms:
            for b in terms:
                assert np.allclose(a @ b, b @ a)


@pytest.mark.parametrize("n_orb,n_a,n_b", [(2, 1, 1), (6, 2, 2), (7, 5, 5)])
def test_excitation_counts(n_orb, n_a, n_b):
    singles, doubles = uccsd_excitations(2 * n_orb, n_a, n_b)
    va, vb = n_orb - n_a, n_orb - n_b
    assert len(singles) == n_a * va + n_b * vb
    assert len(doubles) == comb(n_a, 2) * comb(va, 2) + comb(n_b, 2) * comb(vb, 2) + n_a * va * n_b * vb
    assert len(uccsd_pauli_pool(2 * n_orb, n_a, n_b)) <= 2 * len(singles) + 8 * len(doubles)


def test_fast_energy_equals_statevector_and_gradient_equals_finite_differences(molecules):
    mol = molecules("LiH", (2, 3))
    fn = UCCSDEnergy(mol)
    theta = torch.tensor(np.random.default_rng(0).uniform(-0.3, 0.3, len(fn.excitations)), requires_grad=True)
    e = fn(theta)
    circuit = fn.sequence(theta.detach().numpy()).to_circuit(mol.hf_bitstring)
    ref = Statevector(circuit).expectation_value(mol.hamiltonian).real
    assert abs(float(e.detach()) - ref) < 1e-7
    (grad,) = torch.autograd.grad(e, theta)
    eps = 1e-6
    for k in range(len(theta)):
        d = torch.zeros_like(theta)
        d[k] = eps
        fd = (float(fn(theta.detach() + d)) - float(fn(theta.detach() - d))) / (2 * eps)
        assert abs(fd - float(grad[k])) < 1e-7


def test_uccsd_reaches_fci_on_h2_and_chemical_accuracy_on_lih_cas(molecules):
    h2 = molecules("H2")
    r = run_uccsd(h2)
    assert abs(r.energy - h2.energies["fci"]) < 1e-8
    assert r.energy < h2.energies["hf"] - 0.01
    lih = molecules("LiH", (2, 3))
    r = run_uccsd(lih)
    assert abs(r.energy - lih.energies["fci"]) < 1.6e-3
    with pytest.raises(ValueError, match="parameters"):
        run_uccsd(lih, initial=[0.0])


def test_gate_counts(molecules):
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(0, 1)
    qc.rz(0.3, 1)
    counts = gate_counts(qc, optimization_level=0)
    assert counts == {"total": 4, "cx": 2, "single_qubit": 2, "depth": 4}
    assert gate_counts(qc, optimization_level=1)["cx"] == 0  # the two CX cancel
    h2 = molecules("H2")
    from chemistry.pauli_evolution import PauliSequence

    once = UCCSDEnergy(h2).sequence([0.0, 0.0, 0.2])  # the double excitation only
    seq = PauliSequence(once.labels * 2, once.angles * 2, once.n_qubits)  # applied twice in a row
    full = gate_counts(seq.to_circuit(h2.hf_bitstring))
    short = gate_counts(seq.simplified().to_circuit(h2.hf_bitstring))
    assert 0 < short["cx"] < full["cx"]
    assert short["cx"] == gate_counts(once.simplified().to_circuit(h2.hf_bitstring))["cx"]
    from qiskit.circuit import Parameter

    qc.rx(Parameter("a"), 0)
    with pytest.raises(ValueError, match="bind"):
        gate_counts(qc)
