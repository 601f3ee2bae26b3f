"""chemistry.fermion_ops and chemistry.eom: ladder operators carry PennyLane's Jordan-Wigner signs,
q-sc-EOM equals exact diagonalisation when its manifold spans the sector (for any number-conserving
U), standard manifolds are variational and find the core hole, and bad input names the problem."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
import torch

pytest.importorskip("pyscf")

from chemistry import Molecule  # noqa: E402
from chemistry.eom import (  # noqa: E402
    HARTREE_TO_EV,
    core_hole_state,
    dip_manifold,
    exact_ionised_states,
    ip_manifold,
    q_sc_eom,
)
from chemistry.exact import exact_eigenstates  # noqa: E402
from chemistry.fermion_ops import (  # noqa: E402
    annihilate,
    create,
    determinants,
    sector_matrix,
    transition_rdm,
)
from chemistry.mapping import _to_sparse_pauli_op, number_operator, qubit_hamiltonian  # noqa: E402
from chemistry.pauli_evolution import PauliSequence  # noqa: E402

rng = np.random.default_rng(11)

CASES = {"H2": ("H2", None), "LiH-cas23": ("LiH", (2, 3)), "H2O-cas44": ("H2O", (4, 4))}


def random_states(n_qubits: int, batch: int) -> torch.Tensor:
    psi = rng.normal(size=(batch, 2**n_qubits)) + 1j * rng.normal(size=(batch, 2**n_qubits))
    return torch.as_tensor(psi / np.linalg.norm(psi, axis=1, keepdims=True))


def ladder_matrix(n: int, p: int, dagger: bool) -> np.ndarray:
    """Dense matrix of a_p / a+_p from our ops: column j = op |j>."""
    eye = torch.eye(2**n, dtype=torch.complex128)
    op = create if dagger else annihilate
    return op(eye, p).numpy().T


def pennylane_matrix(word: dict, n: int) -> np.ndarray:
    """Matrix of a FermiWord under PennyLane's jordan_wigner, wire k = qubit k = bit k (LSB)."""
    import pennylane as pnl
    from pennylane.fermi import FermiWord

    ps = pnl.jordan_wigner(FermiWord(word), ps=True)
    return np.asarray(ps.to_mat(wire_order=list(range(n))[::-1]))


def excitation_generator(
    creators: list[int], annihilators: list[int], n: int
) -> tuple[list[str], list[float]]:
    """Commuting Pauli strings P_k and coefficients c_k of G = i (T - T+), T = a+_c.. a_a.. (JW, ours)."""
    from pennylane.fermi import FermiWord

    ops = [(c, "+") for c in creators] + [(a, "-") for a in annihilators]
    word = FermiWord({(i, w): kind for i, (w, kind) in enumerate(ops)})
    import pennylane as pnl

    op = _to_sparse_pauli_op(pnl.jordan_wigner(1j * (word - word.adjoint()), ps=True), n)
    return list(op.paulis.to_labels()), [float(c.real) for c in op.coeffs]


def ucc_unitary(
    mol: Molecule, thetas_seed: int = 0, doubles: bool = True, blocks: list | None = None
) -> PauliSequence:
    """Random number- and S_z-conserving U: exp(-i theta G) for every same-spin single and some doubles.

    ``blocks`` (if given) receives the number of strings per excitation, in order."""
    r = np.random.default_rng(thetas_seed)
    n = mol.n_qubits
    occ = [k for k in range(n) if mol.hf_bitstring[n - 1 - k] == "1"]
    vir = [k for k in range(n) if mol.hf_bitstring[n - 1 - k] == "0"]
    excitations = [([a], [i]) for i in occ for a in vir if (a - i) % 2 == 0]
    if doubles:
        excitations += [
            ([a, b], [i, j])
            for i in occ
            for j in occ
            if i < j and (i + j) % 2 == 1
            for a in vir
            for b in vir
            if a < b and (a + b) % 2 == 1
        ][:6]
    labels, angles = [], []
    for creators, annihilators in excitations:
        theta = r.uniform(-0.6, 0.6)
        strings, coeffs = excitation_generator(creators, annihilators, n)
        labels += strings
        angles += [theta * c for c in coeffs]
        if blocks is not None:
            blocks.append(len(strings))
    return PauliSequence(labels, angles, n)


# ---------------------------------------------------------------------------------------------
# fermion_ops


@pytest.mark.parametrize("n", [3, 5])
def test_anticommutation_relations(n):
    psi = random_states(n, 3)
    for p in range(n):
        for q in range(n):
            anti = annihilate(create(psi, q), p) + create(annihilate(psi, p), q)
            np.testing.assert_allclose(anti.numpy(), psi.numpy() * (p == q), atol=1e-13)
            both = annihilate(annihilate(psi, q), p) + annihilate(annihilate(psi, p), q)
            np.testing.assert_allclose(both.numpy(), 0, atol=1e-13)
    # numpy in -> numpy out, single vectors accepted
    single = annihilate(psi[0].numpy(), 1)
    assert isinstance(single, np.ndarray) and single.shape == (2**n,)
    np.testing.assert_allclose(single, annihilate(psi, 1)[0].numpy())


def test_ladder_matches_pennylane_jordan_wigner():
    n = 4
    for p in range(n):
        np.testing.assert_allclose(ladder_matrix(n, p, False), pennylane_matrix({(0, p): "-"}, n), atol=1e-14)
        for q in range(n):
            ours = ladder_matrix(n, p, True) @ ladder_matrix(n, q, False)
            ref = pennylane_matrix({(0, p): "+", (1, q): "-"}, n)
            np.testing.assert_allclose(ours, ref, atol=1e-14)


def test_one_body_term_matches_molecules_qubit_hamiltonian():
    """h_pq = h_qp = 1 (spatial) is sum_s a+_ps a_qs + a+_qs a_ps in chemistry.mapping's mapping."""
    n_spatial, n = 3, 6
    for p, q in [(0, 2), (1, 2), (0, 0)]:
        h1 = np.zeros((n_spatial, n_spatial))
        h1[p, q] = h1[q, p] = 1.0
        ref = qubit_hamiltonian(h1, np.zeros((n_spatial,) * 4)).to_matrix()
        ours = np.zeros_like(ref)
        pairs = {(p, q), (q, p)}
        for s in (0, 1):
            for a, b in pairs:
                ours += ladder_matrix(n, 2 * a + s, True) @ ladder_matrix(n, 2 * b + s, False)
        np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_number_operator_counts():
    n = 5
    psi = random_states(n, 2)
    total = sum(create(annihilate(psi, p), p) for p in range(n))
    counts = np.array([bin(k).count("1") for k in range(2**n)])
    np.testing.assert_allclose(total.numpy(), psi.numpy() * counts, atol=1e-13)
    np.testing.assert_allclose(total.numpy(), psi.numpy() @ number_operator(n).to_matrix().T, atol=1e-12)


def test_determinants_and_sector_matrix(molecules):
    dets = determinants(6, 2, 1)
    assert len(dets) == comb(3, 2) * comb(3, 1) and np.all(np.diff(dets) > 0)
    for d in dets:
        assert sum((d >> k) & 1 for k in (0, 2, 4)) == 2 and sum((d >> k) & 1 for k in (1, 3, 5)) == 1
    assert len(determinants(14, 4, 5)) == 735 and len(determinants(14, 4, 4)) == 1225
    mol = molecules("H2O", (4, 4))
    sector = determinants(8, 2, 2)
    h = sector_matrix(mol.hamiltonian, sector)
    np.testing.assert_allclose(h, mol.hamiltonian.to_matrix()[np.ix_(sector, sector)], atol=1e-12)
    assert np.linalg.eigvalsh(h)[0] == pytest.approx(mol.energies["fci"], abs=1e-8)


def test_transition_rdm_antisymmetric_and_matches_dense():
    n, core = 6, 1
    final = random_states(n, 4)
    initial = random_states(n, 1)[0]
    gamma = transition_rdm(final, initial, core)
    assert gamma.shape == (4, n, n)
    np.testing.assert_allclose(gamma, -gamma.transpose(0, 2, 1), atol=1e-13)
    a = [ladder_matrix(n, p, False) for p in range(n)]
    cdag = ladder_matrix(n, core, True)
    ref = np.array(
        [
            [
                [final[k].numpy().conj() @ cdag @ a[q] @ a[p] @ initial.numpy() for q in range(n)]
                for p in range(n)
            ]
            for k in range(4)
        ]
    )
    np.testing.assert_allclose(gamma, ref, atol=1e-13)
    np.testing.assert_allclose(transition_rdm(final.numpy(), initial.numpy(), core), gamma, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# manifolds


def test_manifold_signs_and_sizes():
    hf = "00001111"  # 8 spin orbitals, 4 electrons (H2O CAS(4,4))
    ip = ip_manifold(hf)
    assert len(ip) == 4 + comb(4, 2) * 4 and ip.n_electrons == 3
    assert ip.labels[0] == "1h a_0" and ip.labels[4] == "2h1p a+_4 a_1 a_0"
    vec = np.zeros(256)
    vec[int(hf, 2)] = 1.0
    for det, sign, label in zip(ip.determinants, ip.signs, ip.labels, strict=True):
        ops = label.split()[1:]
        out = vec.copy()
        for op in reversed(ops):  # right-most acts first
            p = int(op.split("_")[1])
            out = create(out, p) if op.startswith("a+") else annihilate(out, p)
        assert out[det] == sign and np.count_nonzero(out) == 1
    dip = dip_manifold(hf, spin_z=0)
    assert all(bin(d).count("1") == 2 for d in dip.determinants)
    assert len(dip_manifold(hf, "full", spin_z=0)) == comb(4, 1) ** 2
    assert len(ip_manifold(hf, "full")) == comb(8, 3)
    assert len(ip_manifold(hf, "1h", spin_z=-0.5)) == 2


def test_higher_rank_manifolds_sizes_and_completion():
    """3h2p (IP) and 4h2p (DIP) parts: counts, labels, and 1h+2h1p+3h2p completes a 4-electron,
    4-orbital N-1 sector except its 4h3p determinants."""
    hf = "00001111"
    ip3 = ip_manifold(hf, "3h2p")
    assert len(ip3) == comb(4, 3) * comb(4, 2) and ip3.labels[0] == "3h2p a+_5 a+_4 a_2 a_1 a_0"
    assert len(dip_manifold(hf, "4h2p")) == comb(4, 4) * comb(4, 2)
    assert len(dip_manifold(hf, "2h+3h1p+4h2p")) == comb(4, 2) + comb(4, 3) * 4 + 6
    big = ip_manifold(hf, "1h+2h1p+3h2p")
    full = ip_manifold(hf, "full")
    assert set(big.determinants) < set(full.determinants)
    assert len(full) - len(big) == comb(4, 4) * comb(4, 3)  # only 4h3p determinants are missing
    with pytest.raises(ValueError, match="4h2p"):
        ip_manifold(hf, "1h+4h2p")


# ---------------------------------------------------------------------------------------------
# q-sc-EOM against exact diagonalisation


def _sector_spins(mol: Molecule, holes: int) -> tuple[float, int, int]:
    """(S_z, n_alpha, n_beta) after removing ``holes`` electrons, alpha first."""
    n_a = mol.n_alpha - (holes + 1) // 2
    n_b = mol.n_beta - holes // 2
    return 0.5 * (n_a - n_b), n_a, n_b


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("with_u", [False, True])
@pytest.mark.parametrize("kind", ["ip", "dip"])
def test_full_manifold_equals_exact(case, with_u, kind, molecules):
    mol = molecules(*CASES[case])
    u = ucc_unitary(mol) if with_u else None
    holes = 1 if kind == "ip" else 2
    sz, n_a, n_b = _sector_spins(mol, holes)
    res = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, u, f"{kind}-full", spin_z=sz)
    exact = exact_ionised_states(mol.hamiltonian, mol.n_qubits, n_a, n_b)
    np.testing.assert_allclose(res.energies, exact.energies, atol=1e-9)
    # the states are eigenvectors of H with those energies
    h = mol.hamiltonian.to_matrix(sparse=True)
    resid = (h @ res.states.T).T - res.energies[:, None] * res.states
    assert np.max(np.abs(resid)) < 1e-8
    # all S_z sectors at once against molecules.exact_eigenstates (independent code path)
    full = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, u, f"{kind}-full")
    n_target = mol.n_electrons - holes
    ref, _ = exact_eigenstates(mol.hamiltonian, n_target, k=comb(mol.n_qubits, n_target))
    np.testing.assert_allclose(full.energies, ref, atol=1e-9)
    if with_u:
        hf_e = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, None, "1h").reference_energy
        assert hf_e == pytest.approx(mol.energies["hf"], abs=1e-9)
        assert res.reference_energy > mol.energies["fci"] - 1e-9


def test_h2_standard_manifolds_are_complete(molecules):
    mol = molecules("H2")
    u = ucc_unitary(mol)
    for name, n_target in (("ip", 1), ("dip", 0)):
        res = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, u, name)
        ref, _ = exact_eigenstates(mol.hamiltonian, n_target, k=comb(4, n_target))
        np.testing.assert_allclose(res.energies, ref, atol=1e-10)


def test_h2_converged_ucc_reference_is_fci(molecules):
    """U from a converged UCCD on H2 prepares the FCI state: the reference energy is exact."""
    from scipy.optimize import minimize_scalar

    mol = molecules("H2")
    strings, coeffs = excitation_generator([2, 3], [0, 1], 4)

    def unitary(theta):
        return PauliSequence(strings, [theta * c for c in coeffs], 4)

    def energy(theta):
        return q_sc_eom(mol.hamiltonian, mol.hf_bitstring, unitary(theta), "1h").reference_energy

    best = minimize_scalar(energy, bounds=(-1.5, 1.5), method="bounded", options={"xatol": 1e-10})
    assert best.fun == pytest.approx(mol.energies["fci"], abs=1e-9)
    res = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, unitary(best.x), "ip", spin_z=-0.5)
    exact = exact_ionised_states(mol.hamiltonian, 4, 0, 1)
    np.testing.assert_allclose(res.energies, exact.energies, atol=1e-10)


def converged_uccsd(mol: Molecule) -> PauliSequence:
    """UCCSD (all N- and S_z-conserving singles and doubles, one angle each) optimised by L-BFGS."""
    from chemistry.pauli_evolution import PauliTable, SparseHamiltonian, basis_states, evolve

    n = mol.n_qubits
    occ = [k for k in range(n) if mol.hf_bitstring[n - 1 - k] == "1"]
    vir = [k for k in range(n) if mol.hf_bitstring[n - 1 - k] == "0"]
    spin = [k % 2 for k in range(n)]
    excitations = [([a], [i]) for i in occ for a in vir if spin[a] == spin[i]]
    excitations += [
        ([a, b], [i, j])
        for i in occ
        for j in occ
        if i < j
        for a in vir
        for b in vir
        if a < b and sorted((spin[a], spin[b])) == sorted((spin[i], spin[j]))
    ]
    labels, coeffs, owner = [], [], []
    for e, (creators, annihilators) in enumerate(excitations):
        strings, cs = excitation_generator(creators, annihilators, n)
        labels, coeffs, owner = labels + strings, coeffs + cs, owner + [e] * len(strings)
    table, ham = PauliTable.build(labels, n), SparseHamiltonian(mol.hamiltonian)
    hf, coeffs, owner = basis_states([mol.hf_bitstring]), torch.tensor(coeffs), torch.tensor(owner)
    theta = torch.zeros(len(excitations), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [theta], max_iter=300, tolerance_grad=1e-11, tolerance_change=1e-14, line_search_fn="strong_wolfe"
    )

    def closure():
        opt.zero_grad()
        energy = ham.energy(evolve(hf, table, list(range(len(labels))), theta[owner] * coeffs)).sum()
        energy.backward()
        return energy

    for _ in range(3):
        opt.step(closure)
    return PauliSequence(labels, (theta[owner] * coeffs).tolist(), n)


def test_standard_manifolds_variational_and_core_hole_h2o_cas44(molecules):
    mol = molecules("H2O", (4, 4))
    u = ucc_unitary(mol, thetas_seed=3)
    ucc = converged_uccsd(mol)
    for kind, holes in (("ip", 1), ("dip", 2)):
        sz, n_a, n_b = _sector_spins(mol, holes)
        exact = exact_ionised_states(mol.hamiltonian, mol.n_qubits, n_a, n_b, hf_bitstring=mol.hf_bitstring)
        for unitary in (None, u, ucc):
            res = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, unitary, kind, spin_z=sz)
            assert len(res) < len(exact)
            # Cauchy interlacing: the k-th EOM root is above the k-th exact root of the sector
            assert np.all(res.energies >= exact.energies[: len(res)] - 1e-10)
            # a larger manifold (3h2p / 4h2p added) lies between the standard one and exact
            bigger = q_sc_eom(
                mol.hamiltonian,
                mol.hf_bitstring,
                unitary,
                "1h+2h1p+3h2p" if kind == "ip" else "2h+3h1p+4h2p",
                spin_z=sz,
            )
            assert len(bigger) > len(res)
            assert np.all(bigger.energies[: len(res)] <= res.energies + 1e-10)
            assert np.all(bigger.energies >= exact.energies[: len(bigger)] - 1e-10)
        # on the converged UCCSD ground state the lowest roots are close to exact
        res = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, ucc, kind, spin_z=sz)
        assert res.reference_energy == pytest.approx(mol.energies["fci"], abs=1e-6)
        assert res.energies[0] == pytest.approx(exact.energies[0], abs=3e-3)
        # U = 1: M is H on the manifold determinants, up to the operator signs
        man = (ip_manifold if kind == "ip" else dip_manifold)(mol.hf_bitstring, spin_z=sz)
        res = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, None, man)
        block = sector_matrix(mol.hamiltonian, man.determinants)
        np.testing.assert_allclose(res.matrix, block * np.outer(man.signs, man.signs), atol=1e-12)
        np.testing.assert_allclose(res.energies, np.linalg.eigvalsh(block), atol=1e-10)

    # the hole in the lowest active orbital (spin orbital 0) is the deepest of the 1h states
    res = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, ucc, "ip", spin_z=-0.5)
    deep = core_hole_state(res, 0)
    homo = core_hole_state(res, 2)
    assert deep.weight > 0.5 and homo.weight > 0.5
    assert deep.energy > homo.energy
    assert deep.index == int(np.argmax(deep.weights))
    np.testing.assert_allclose(deep.state, res.states[deep.index])
    # exact: Koopmans determinant and the sudden-ionisation overlap with a_0|Psi0> pick the same state
    _, psi0 = exact_eigenstates(mol.hamiltonian, mol.n_electrons)
    exact = exact_ionised_states(mol.hamiltonian, 8, 1, 2, hf_bitstring=mol.hf_bitstring)
    by_det, by_overlap = core_hole_state(exact, 0), core_hole_state(exact, 0, ground_state=psi0[:, 0])
    # the same state: compared by energy, which (unlike an index) no eigensolver tie-break can change
    assert by_det.energy == pytest.approx(by_overlap.energy, abs=1e-10) and by_overlap.weight > 0.5
    assert np.sum(by_overlap.weights) == pytest.approx(1.0, abs=1e-10)  # a_0|Psi0> lies in this sector
    assert by_det.energy == pytest.approx(deep.energy, abs=1e-3)


def test_equivalent_pauli_orderings_give_same_energies(molecules):
    mol = molecules("H2O", (4, 4))  # its 1h+2h1p / 2h+3h1p manifolds are incomplete: the energies depend on U
    blocks: list[int] = []
    u = ucc_unitary(mol, thetas_seed=5, blocks=blocks)
    assert max(blocks) == 8 and sum(blocks) == len(u)  # doubles are in
    # reverse the strings inside each excitation's block (they commute): the same U
    labels, angles, i = [], [], 0
    for size in blocks:
        labels += u.labels[i : i + size][::-1]
        angles += u.angles[i : i + size][::-1]
        i += size
    v = PauliSequence(labels, angles, mol.n_qubits)
    assert v.labels != u.labels
    for name in ("ip", "dip"):
        a = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, u, name)
        b = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, v, name)
        np.testing.assert_allclose(a.energies, b.energies, atol=1e-10)
        np.testing.assert_allclose(a.matrix, b.matrix, atol=1e-10)
        assert a.energies[0] != pytest.approx(
            q_sc_eom(mol.hamiltonian, mol.hf_bitstring, None, name).energies[0], abs=1e-6
        )


def test_callable_unitary_equals_pauli_sequence(molecules):
    mol = molecules("LiH", (2, 3))
    u = ucc_unitary(mol, thetas_seed=2)
    a = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, u, "ip")
    b = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, lambda s: u.apply(s).numpy(), "ip")
    np.testing.assert_allclose(a.energies, b.energies, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# bad input


def test_bad_input_raises(molecules):
    mol = molecules("H2")
    h, hf = mol.hamiltonian, mol.hf_bitstring
    with pytest.raises(ValueError, match="has 6 characters but the Hamiltonian acts on 4 qubits"):
        q_sc_eom(h, "000011", None, "ip")
    with pytest.raises(ValueError, match="unknown manifold name 'tda'"):
        q_sc_eom(h, hf, None, "tda")
    with pytest.raises(ValueError, match="unknown IP manifold '3h'"):
        ip_manifold(hf, "3h")
    with pytest.raises(ValueError, match="unknown DIP manifold '1h'"):
        dip_manifold(hf, "1h")
    with pytest.raises(ValueError, match="does not conserve particle number"):
        q_sc_eom(h, hf, PauliSequence(["XZZY"], [0.3], 4), "ip")
    with pytest.raises(ValueError, match="not the identity"):
        q_sc_eom(h, hf, lambda s: 2 * s, "ip")
    with pytest.raises(ValueError, match="spin_z must be a multiple of 1/2"):
        ip_manifold(hf, spin_z=0.3)
    with pytest.raises(ValueError, match="no determinant with S_z = 1.5"):
        ip_manifold(hf, spin_z=1.5)
    with pytest.raises(ValueError, match="hf_bitstring must be a string of 0/1"):
        ip_manifold("00x1")
    with pytest.raises(ValueError, match="unitary must be a PauliSequence"):
        q_sc_eom(h, hf, 3.0, "ip")
    with pytest.raises(ValueError, match="hamiltonian must be a SparsePauliOp"):
        q_sc_eom(np.eye(16), hf, None, "ip")
    with pytest.raises(ValueError, match="spin orbital 4 is outside 0..3"):
        annihilate(np.zeros((1, 16)), 4)
    with pytest.raises(ValueError, match="not a power of two"):
        create(np.zeros((1, 12)), 0)
    with pytest.raises(ValueError, match="core spin orbital 7"):
        transition_rdm(np.zeros((1, 16)), np.zeros(16), 7)
    with pytest.raises(ValueError, match="do not fit"):
        determinants(4, 3, 0)
    res = q_sc_eom(h, hf, None, "ip", spin_z=-0.5)
    with pytest.raises(ValueError, match="no 1h operator removing spin orbital 1"):
        core_hole_state(res, 1)
    with pytest.raises(ValueError, match="not occupied"):
        core_hole_state(res, 3)


# ---------------------------------------------------------------------------------------------
# full-space water: the O 1s core hole (slow: 14 qubits, 735 / 1225 determinants)


@pytest.mark.slow
def test_water_o1s_core_hole_full_space(molecules):
    mol = molecules("H2O")
    assert mol.n_qubits == 14
    e0 = mol.energies["fci"]
    res = q_sc_eom(mol.hamiltonian, mol.hf_bitstring, None, "ip", spin_z=-0.5)
    eom_hole = core_hole_state(res, 0)
    exact = exact_ionised_states(mol.hamiltonian, 14, 4, 5, hf_bitstring=mol.hf_bitstring)
    assert len(exact) == 735
    _, psi0 = exact_eigenstates(mol.hamiltonian, mol.n_electrons)
    exact_hole = core_hole_state(exact, 0, ground_state=psi0[:, 0])
    ip_exact = (exact_hole.energy - e0) * HARTREE_TO_EV
    ip_eom = (eom_hole.energy - mol.energies["hf"]) * HARTREE_TO_EV
    assert exact_hole.weight > 0.5 and eom_hole.weight > 0.5
    assert 500 < ip_exact < 580 and 500 < ip_eom < 580
    assert abs(ip_exact - ip_eom) < 10
    dip = exact_ionised_states(mol.hamiltonian, 14, 4, 4)
    assert len(dip) == 1225
    assert dip.energies[0] > mol.energies["fci"]
