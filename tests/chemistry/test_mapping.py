"""chemistry.mapping: the Hartree-Fock bitstring and number operator follow Qiskit's qubit order,
the qubit Hamiltonian conserves particle number and S_z, and the parity mapping has the
Jordan-Wigner spectrum."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyscf")

from chemistry.exact import exact_ground_state  # noqa: E402
from chemistry.mapping import hf_bitstring, number_operator, spin_z_operator  # noqa: E402

CASES = {"H2": ("H2", None), "LiH-cas23": ("LiH", (2, 3)), "H2O-cas44": ("H2O", (4, 4))}


def commutator_norm(a, b) -> float:
    c = (a @ b - b @ a).simplify(atol=1e-10)
    return float(np.max(np.abs(c.coeffs))) if c.size else 0.0


def test_hf_state_and_qubit_order(molecules):
    mol = molecules("H2")
    # qubits 0 (alpha) and 1 (beta) of the lowest spatial orbital are occupied; qubit 0 right-most
    assert mol.hf_bitstring == "0011"
    assert [mol.hf_circuit.find_bit(inst.qubits[0]).index for inst in mol.hf_circuit.data] == [0, 1]
    assert hf_bitstring(6, 2, 1) == "000111"
    assert hf_bitstring(6, 2, 1, mapping="parity") == "111101"
    # the number operator under JW is sum_k (I - Z_k)/2 with Z_k at label position n-1-k
    n_op = number_operator(4)
    assert dict(zip(n_op.paulis.to_labels(), n_op.coeffs.real, strict=True)) == pytest.approx(
        {"IIII": 2.0, "IIIZ": -0.5, "IIZI": -0.5, "IZII": -0.5, "ZIII": -0.5}
    )


@pytest.mark.parametrize("case", ["H2", "LiH-cas23", "H2O-cas44"])
def test_hamiltonian_conserves_particle_number_and_spin(case, molecules):
    mol = molecules(*CASES[case])
    assert commutator_norm(mol.hamiltonian, number_operator(mol.n_qubits)) < 1e-10
    assert commutator_norm(mol.hamiltonian, spin_z_operator(mol.n_qubits)) < 1e-10


@pytest.mark.parametrize("case", ["H2", "LiH-cas23", "H2O-cas44"])
def test_parity_mapping_same_spectrum(case, molecules):
    name, active = CASES[case]
    jw, par = molecules(name, active), molecules(name, active, mapping="parity")
    assert par.mapping == "parity" and par.hf_bitstring != jw.hf_bitstring
    e_jw = np.linalg.eigvalsh(jw.hamiltonian.to_matrix())
    e_par = np.linalg.eigvalsh(par.hamiltonian.to_matrix())
    np.testing.assert_allclose(e_par, e_jw, atol=1e-9)
    energy, _ = exact_ground_state(par.hamiltonian, par.n_electrons, mapping="parity")
    assert energy == pytest.approx(jw.energies["fci"], abs=1e-8)
    assert commutator_norm(par.hamiltonian, number_operator(par.n_qubits, "parity")) < 1e-10

    from circuits import expval

    value = expval(par.hf_circuit, par.hamiltonian, dtype="complex128")
    assert float(value.reshape(-1)[0]) == pytest.approx(jw.energies["hf"], abs=1e-8)
