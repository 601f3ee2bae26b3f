"""chemistry.excitations / gate_counts / vqe: generators are the Jordan-Wigner excitations (checked
against explicit ladder matrices), UCCSD / HEA / ADAPT VQE reach FCI on H2 and LiH(2,3), gradients
equal finite differences, gates are counted right and bad input is named in the error."""

from __future__ import annotations

import functools
import types
from math import comb

import numpy as np
import pytest
import scipy.linalg
import torch
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector

pytest.importorskip("pyscf")

from chemistry import (  # noqa: E402
    gate_counts,
    hf_bitstring,
    number_operator,
    spin_z_operator,
)
from chemistry.excitations import (  # noqa: E402
    excitation_generator,
    excitation_pauli_terms,
    uccsd_excitations,
    uccsd_pauli_pool,
)
from chemistry.vqe import (  # noqa: E402
    adapt_pool,
    adapt_vqe,
    hardware_efficient_circuit,
    pool_gradients,
    run_vqe,
    uccsd_circuit,
)

CHEMICAL_ACCURACY = 1.6e-3
# Qiskit's Statevector of a PauliEvolutionGate goes through scipy's sparse expm, which warns about formats
pytestmark = pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")
# ---------------------------------------------------------------------------------------------
# an independent Jordan-Wigner: explicit Kronecker products, qubit 0 the least-significant bit

_I2, _Z = np.eye(2), np.diag([1.0, -1.0])
_LOWER = np.array([[0.0, 1.0], [0.0, 0.0]])  # |0><1|: empties an occupied (|1>) orbital


def annihilator(p: int, n: int) -> np.ndarray:
    """``a_p = Z_0 ... Z_{p-1} |0><1|_p`` as a dense matrix (Kronecker factors from qubit n-1 down)."""
    factors = [_I2 if q > p else _LOWER if q == p else _Z for q in range(n - 1, -1, -1)]
    return functools.reduce(np.kron, factors).astype(complex)


def excitation_matrix(exc, n: int) -> np.ndarray:
    a = [annihilator(p, n) for p in range(n)]
    if len(exc) == 2:
        i, k = exc
        return a[k].conj().T @ a[i]
    i, j, k, m = exc
    return a[k].conj().T @ a[m].conj().T @ a[j] @ a[i]


def commutator_norm(x: SparsePauliOp, y: SparsePauliOp) -> float:
    c = (x @ y - y @ x).simplify(atol=1e-12)
    return float(np.max(np.abs(c.coeffs))) if c.size else 0.0


# ---------------------------------------------------------------------------------------------
# excitations


def test_h2_excitations_and_pool():
    singles, doubles = uccsd_excitations(4, 1, 1)
    assert singles == [(0, 2), (1, 3)]
    assert doubles == [(0, 1, 2, 3)]
    pool = uccsd_pauli_pool(4, 1, 1)
    assert len(pool) == len(set(pool)) == 2 * 2 + 8
    # every string of i(T - T^dagger) is imaginary-antisymmetric: an odd number of Y
    assert all(label.count("Y") % 2 == 1 and len(label) == 4 for label in pool)


@pytest.mark.parametrize(
    "n_qubits,n_alpha,n_beta",
    [(4, 1, 1), (6, 1, 1), (12, 2, 2), (14, 5, 5), (8, 3, 2)],  # H2, LiH(2,3), LiH, H2O, open shell
)
def test_excitation_counts_match_the_combinatorial_formula(n_qubits, n_alpha, n_beta):
    singles, doubles = uccsd_excitations(n_qubits, n_alpha, n_beta)
    n_orb = n_qubits // 2
    va, vb = n_orb - n_alpha, n_orb - n_beta
    assert len(singles) == n_alpha * va + n_beta * vb
    same_spin = comb(n_alpha, 2) * comb(va, 2) + comb(n_beta, 2) * comb(vb, 2)
    assert len(doubles) == same_spin + n_alpha * va * n_beta * vb
    occupied = {q for q, c in enumerate(reversed(hf_bitstring(n_qubits, n_alpha, n_beta))) if c == "1"}
    for i, a in singles:
        assert i in occupied and a not in occupied and i % 2 == a % 2
    for i, j, a, b in doubles:
        assert i < j and a < b and {i, j} <= occupied and not {a, b} & occupied
        assert i % 2 + j % 2 == a % 2 + b % 2
    assert len(set(singles)) == len(singles) and len(set(doubles)) == len(doubles)


def test_molecule_sizes_match(molecules):
    lih = molecules("LiH", (2, 3))
    singles, doubles = uccsd_excitations(lih.n_qubits, lih.n_alpha, lih.n_beta)
    assert (lih.n_qubits, len(singles), len(doubles)) == (6, 4, 4)
    assert uccsd_circuit(lih).num_parameters == 8


@pytest.mark.parametrize(
    "exc", [(0, 2), (1, 5), (2, 0), (0, 1, 2, 3), (0, 3, 4, 7), (1, 3, 5, 7), (0, 2, 4, 6)]
)
def test_generator_equals_explicit_jordan_wigner(exc):
    n = 8
    t = excitation_matrix(exc, n)
    assert np.linalg.norm(t) > 0
    expected = 1j * (t - t.conj().T)
    np.testing.assert_allclose(excitation_generator(exc, n).to_matrix(), expected, atol=1e-12)
    terms = excitation_pauli_terms(exc, n)
    rebuilt = SparsePauliOp([lab for lab, _ in terms], [c for _, c in terms]).to_matrix()
    np.testing.assert_allclose(rebuilt, expected, atol=1e-12)


def test_generators_hermitian_conserve_n_and_sz_and_terms_commute():
    n = 8
    num, sz = number_operator(n), spin_z_operator(n)
    singles, doubles = uccsd_excitations(n, 2, 2)
    rng = np.random.default_rng(1)
    for exc in singles + doubles:
        g = excitation_generator(exc, n)
        assert np.all(np.abs(g.coeffs.imag) == 0)
        assert commutator_norm(g, g.adjoint()) == 0  # Hermitian: real coefficients of Hermitian strings
        assert commutator_norm(g, num) < 1e-12 and commutator_norm(g, sz) < 1e-12
        terms = excitation_pauli_terms(exc, n)
        expected = (2, 0.5) if len(exc) == 2 else (8, 0.125)
        assert (len(terms), {abs(c) for _, c in terms}) == (expected[0], {expected[1]})
        ps = [SparsePauliOp(lab) for lab, _ in terms]
        assert all(a.compose(b) == b.compose(a) for a in ps for b in ps)
    # the commuting product of term exponentials is exactly exp(-i theta G)
    for exc in [singles[0], doubles[0], doubles[-1]]:
        theta = rng.uniform(-1, 1)
        g = excitation_generator(exc, n).to_matrix()
        product = np.eye(2**n, dtype=complex)
        for label, c in excitation_pauli_terms(exc, n):
            product = scipy.linalg.expm(-1j * theta * c * SparsePauliOp(label).to_matrix()) @ product
        np.testing.assert_allclose(product, scipy.linalg.expm(-1j * theta * g), atol=1e-12)
    # a generator that breaks S_z would be caught: a+_2 a_1 (alpha <- beta)
    assert commutator_norm(excitation_generator((1, 2), n), sz) > 0.1


@pytest.mark.parametrize(
    "exc,target,sign",
    # signs by hand: a+_2 a_0 |0011> = -|0110> (a+_2 passes the occupied orbital 1),
    # a+_3 a_1 |0011> = +|1001> (two passes), a+_2 a+_3 a_1 a_0 |0011> = +|1100>
    [((0, 2), "0110", -1), ((1, 3), "1001", +1), ((0, 1, 2, 3), "1100", +1)],
)
def test_uccsd_factor_rotates_hf_with_the_right_sign(exc, target, sign):
    theta = 0.37
    circuit = uccsd_circuit((4, 1, 1), excitations=[exc])
    bound = circuit.assign_parameters([theta])
    from circuits import statevector

    ours = statevector(circuit, torch.tensor([theta], dtype=torch.float64), dtype="complex128")[0].numpy()
    qiskit_state = Statevector(bound).data  # Qiskit's own synthesis of the PauliEvolutionGate
    for state in (ours, qiskit_state):
        expected = np.zeros(16, dtype=complex)
        expected[int("0011", 2)] = np.cos(theta)
        expected[int(target, 2)] = sign * np.sin(theta)
        np.testing.assert_allclose(state, expected, atol=1e-10)


def test_uccsd_circuit_structure(molecules):
    h2 = molecules("H2")
    circuit = uccsd_circuit(h2)
    assert circuit.num_parameters == 3 and circuit.num_qubits == 4
    assert [p.name for p in circuit.parameters] == ["theta[0]", "theta[1]", "theta[2]"]
    assert [inst.operation.name for inst in circuit.data].count("x") == 2
    evolutions = [inst for inst in circuit.data if inst.operation.name == "PauliEvolution"]
    # each factor acts only on the qubits its Jordan-Wigner strings touch
    assert [[circuit.find_bit(q).index for q in inst.qubits] for inst in evolutions] == [
        [0, 1, 2],
        [1, 2, 3],
        [0, 1, 2, 3],
    ]
    assert uccsd_circuit(h2, reps=2).num_parameters == 6
    assert uccsd_circuit((4, 1, 1), excitations=[(0, 1, 2, 3)]).num_parameters == 1
    hea = hardware_efficient_circuit(4, 2, h2.hf_bitstring)
    assert hea.num_parameters == 2 * 4 * 3 and hea.count_ops()["cx"] == 2 * 3


# ---------------------------------------------------------------------------------------------
# gradients


def test_uccsd_energy_and_gradient_match_statevector_and_finite_differences(molecules):
    from circuits import expval

    lih = molecules("LiH", (2, 3))
    circuit = uccsd_circuit(lih)
    theta = torch.tensor(
        np.random.default_rng(0).uniform(-0.3, 0.3, circuit.num_parameters),
        dtype=torch.float64,
        requires_grad=True,
    )

    def energy(t):
        return expval(circuit, lih.hamiltonian, t, dtype="complex128").reshape(-1)[0]

    e = energy(theta)
    bound = circuit.assign_parameters(theta.detach().numpy())
    reference = Statevector(bound).expectation_value(lih.hamiltonian)
    assert float(e.detach()) == pytest.approx(reference.real, abs=1e-10)
    (grad,) = torch.autograd.grad(e, theta)
    eps = 1e-5
    for k in range(circuit.num_parameters):
        step = torch.zeros_like(theta)
        step[k] = eps
        with torch.no_grad():
            fd = (float(energy(theta + step)) - float(energy(theta - step))) / (2 * eps)
        assert float(grad[k]) == pytest.approx(fd, abs=1e-8)
    assert float(grad.abs().max()) > 1e-3  # not trivially zero


@pytest.mark.parametrize("pool", ["fermionic", "qubit"])
def test_pool_gradients_match_finite_differences(pool, molecules):
    lih = molecules("LiH", (2, 3))
    circuit = uccsd_circuit(lih)
    theta = np.random.default_rng(2).uniform(-0.2, 0.2, circuit.num_parameters)
    psi = Statevector(circuit.assign_parameters(theta)).data
    h = lih.hamiltonian.to_matrix()
    names, gens = adapt_pool(lih, pool)
    grads = pool_gradients(psi, lih.hamiltonian, gens)
    assert grads.shape == (len(names),)
    eps = 1e-5
    for k in range(0, len(gens), 3):
        g = gens[k].to_matrix()
        plus = scipy.linalg.expm(-1j * eps * g) @ psi
        minus = scipy.linalg.expm(1j * eps * g) @ psi
        fd = (np.vdot(plus, h @ plus).real - np.vdot(minus, h @ minus).real) / (2 * eps)
        assert grads[k] == pytest.approx(fd, abs=1e-8)
    assert np.abs(grads).max() > 1e-3


# ---------------------------------------------------------------------------------------------
# VQE


def test_vqe_uccsd_h2_reaches_fci(molecules):
    h2 = molecules("H2")
    r = run_vqe(h2, progress=False)
    assert abs(r.energy - h2.energies["fci"]) < 1e-6
    assert r.error == pytest.approx(r.energy - h2.energies["fci"])
    assert r.energy < h2.energies["hf"] - 0.01
    assert r.history[0] == pytest.approx(h2.energies["hf"], abs=1e-8)  # theta = 0 is the HF state
    assert min(r.history) == pytest.approx(r.energy, abs=1e-9)
    assert r.converged and r.n_iterations <= 20 and r.n_evaluations == len(r.history) + 1
    assert r.parameters.shape == (3,) and not r.circuit.parameters
    assert Statevector(r.circuit).expectation_value(h2.hamiltonian).real == pytest.approx(r.energy, abs=1e-9)
    assert r.gate_counts["cx"] > 0 and r.gate_counts["total"] >= r.gate_counts["cx"]
    # the singles vanish by symmetry; the double carries the correlation
    assert abs(r.parameters[2]) > 0.05 and np.all(np.abs(r.parameters[:2]) < 1e-4)


def test_vqe_uccsd_lih_active_space_is_exact(molecules):
    lih = molecules("LiH", (2, 3))
    r = run_vqe(lih, progress=False)
    assert abs(r.error) < CHEMICAL_ACCURACY
    assert abs(r.error) < 1e-6  # two electrons: UCCSD spans the whole sector
    assert r.energy < lih.energies["hf"] - 1e-3


@pytest.mark.parametrize("optimizer", ["adam", "scipy:bfgs", "scipy:cobyla"])
def test_other_optimizers_reach_fci_on_h2(optimizer, molecules):
    h2 = molecules("H2")
    r = run_vqe(h2, optimizer=optimizer, maxiter=400, lr=0.05, progress=False)
    assert abs(r.error) < 1e-6


def test_custom_circuit_and_other_engine(molecules):
    h2 = molecules("H2")
    r = run_vqe(h2, uccsd_circuit(h2), initial=np.zeros(3), progress=False)
    assert abs(r.error) < 1e-6
    from circuits import engines

    if engines.available().get("aer") != "ok":
        pytest.skip("qiskit-aer not available")
    r = run_vqe(h2, engine="aer", progress=False)  # parameter-shift gradients
    assert abs(r.error) < 1e-6


def test_hea_h2_reaches_chemical_accuracy(molecules):
    h2 = molecules("H2")
    r = run_vqe(h2, "hea", layers=2, seed=0, progress=False)
    assert r.parameters.shape == (24,)
    assert r.energy < h2.energies["hf"] - 0.01
    assert abs(r.error) < CHEMICAL_ACCURACY


# ---------------------------------------------------------------------------------------------
# ADAPT-VQE


def test_adapt_h2_picks_the_double_first(molecules):
    h2 = molecules("H2")
    r = adapt_vqe(h2, progress=False)
    assert r.operators[0] == (0, 1, 2, 3)  # singles have zero gradient at HF (Brillouin)
    assert abs(r.error) < CHEMICAL_ACCURACY
    assert r.converged and r.pool_gradients[-1] < 1e-3 and r.pool_gradients[0] > 0.1
    assert r.history[0] == pytest.approx(h2.energies["hf"], abs=1e-8)
    assert len(r.parameters) == len(r.operators) == r.circuit.count_ops()["PauliEvolution"]
    q = adapt_vqe(h2, pool="qubit", progress=False)
    assert abs(q.error) < CHEMICAL_ACCURACY and all(isinstance(op, str) for op in q.operators)


@pytest.mark.parametrize("pool", ["fermionic", "qubit"])
def test_adapt_lih_active_space(pool, molecules):
    lih = molecules("LiH", (2, 3))
    r = adapt_vqe(lih, pool=pool, progress=False)
    assert abs(r.error) < CHEMICAL_ACCURACY
    assert all(b <= a + 1e-10 for a, b in zip(r.history, r.history[1:], strict=False))
    assert 1 <= len(r.operators) <= 30
    short = adapt_vqe(lih, pool=pool, max_operators=1, progress=False)
    assert len(short.operators) == 1 and not short.converged and short.energy > r.energy - 1e-12


# ---------------------------------------------------------------------------------------------
# gate counts


def test_gate_counts_of_known_circuits():
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    assert gate_counts(qc, optimization_level=0) == {"total": 2, "cx": 1, "single_qubit": 1, "depth": 2}
    qc.measure_all()
    assert gate_counts(qc, optimization_level=0)["total"] == 2  # measurements are not gates
    swap = QuantumCircuit(2)
    swap.swap(0, 1)
    assert gate_counts(swap)["cx"] == 3


def test_gate_counts_of_bound_uccsd_and_unbound_error(molecules):
    h2 = molecules("H2")
    circuit = uccsd_circuit(h2)
    counts = gate_counts(circuit.assign_parameters([0.1, 0.2, 0.3]))
    assert counts["cx"] > 0 and counts["total"] >= counts["cx"] and counts["depth"] > 0
    assert set(counts) == {"total", "cx", "single_qubit", "depth"}
    with pytest.raises(ValueError, match="bind"):
        gate_counts(circuit)
    with pytest.raises(ValueError, match="optimization_level"):
        gate_counts(QuantumCircuit(1), optimization_level=5)
    with pytest.raises(ValueError, match="QuantumCircuit"):
        gate_counts("not a circuit")


# ---------------------------------------------------------------------------------------------
# bad input


def test_bad_input_is_named(molecules):
    h2 = molecules("H2")
    with pytest.raises(ValueError, match="unknown ansatz 'ucc'"):
        run_vqe(h2, "ucc", progress=False)
    with pytest.raises(ValueError, match="initial has 2 values but the ansatz has 3 parameters"):
        run_vqe(h2, initial=[0.0, 0.1], progress=False)
    with pytest.raises(ValueError, match="unknown optimizer"):
        run_vqe(h2, optimizer="sgd", progress=False)
    with pytest.raises(ValueError, match="unknown scipy method"):
        run_vqe(h2, optimizer="scipy:magic", progress=False)
    with pytest.raises(ValueError, match="maxiter"):
        run_vqe(h2, maxiter=0, progress=False)
    with pytest.raises(ValueError, match="unknown pool"):
        adapt_vqe(h2, pool="bosonic", progress=False)
    with pytest.raises(ValueError, match="qubits"):
        run_vqe(h2, hardware_efficient_circuit(3, 1), progress=False)
    with pytest.raises(ValueError, match="Molecule"):
        run_vqe("H2", progress=False)
    parity = types.SimpleNamespace(n_qubits=4, n_alpha=1, n_beta=1, hf_bitstring="0001", mapping="parity")
    with pytest.raises(ValueError, match="Jordan-Wigner"):
        uccsd_circuit(parity)
    with pytest.raises(ValueError, match="even"):
        uccsd_excitations(5, 1, 1)
    with pytest.raises(ValueError, match="do not fit"):
        uccsd_excitations(4, 3, 1)
    with pytest.raises(ValueError, match="n_alpha"):
        uccsd_excitations(4, -1, 1)
    with pytest.raises(ValueError, match="distinct"):
        excitation_generator((0, 0), 4)
    with pytest.raises(ValueError, match="distinct"):
        excitation_generator((0, 1, 2, 9), 4)
    with pytest.raises(ValueError, match=r"\(i, a\) or \(i, j, a, b\)"):
        excitation_generator((0, 1, 2), 4)
    with pytest.raises(ValueError, match="at least one excitation"):
        uccsd_circuit((4, 2, 2))
    with pytest.raises(ValueError, match="reps"):
        uccsd_circuit(h2, reps=0)
    with pytest.raises(ValueError, match="hf_bitstring"):
        hardware_efficient_circuit(4, 1, "012")
