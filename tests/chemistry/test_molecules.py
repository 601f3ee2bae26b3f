"""chemistry.molecules: qubit Hamiltonians reproduce pyscf's FCI/CASCI and HF energies, keep particle
number, agree between mappings, and reject bad input with a message naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyscf")

from chemistry import GEOMETRIES, exact_ground_state, molecule  # noqa: E402
from chemistry.molecules import _resolve_geometry  # noqa: E402
from circuits.errors import ChemistryError, UnknownNameError  # noqa: E402

CASES = {
    "H2": ("H2", None),
    "LiH": ("LiH", None),
    "LiH-cas23": ("LiH", (2, 3)),
    "H2O": ("H2O", None),
    "H2O-cas44": ("H2O", (4, 4)),
    "H2O-cas86": ("H2O", (8, 6)),
}


def commutator_norm(a, b) -> float:
    c = (a @ b - b @ a).simplify(atol=1e-10)
    return float(np.max(np.abs(c.coeffs))) if c.size else 0.0


@pytest.mark.parametrize("case", list(CASES))
def test_ground_energy_matches_pyscf_fci(case, molecules):
    mol = molecules(*CASES[case])
    energy, state = exact_ground_state(mol.hamiltonian, mol.n_electrons)
    assert energy == pytest.approx(mol.energies["fci"], abs=1e-8)
    assert np.linalg.norm(state) == pytest.approx(1.0)
    assert mol.n_qubits == 2 * mol.n_orbitals == mol.hamiltonian.num_qubits
    assert np.all(mol.hamiltonian.coeffs.imag == 0)


@pytest.mark.parametrize("case", ["H2", "LiH-cas23", "H2O-cas44", "H2O"])
def test_hf_energy_is_hf_expectation(case, molecules):
    from circuits import expval

    mol = molecules(*CASES[case])
    value = expval(mol.hf_circuit, mol.hamiltonian, dtype="complex128")
    assert float(value.reshape(-1)[0]) == pytest.approx(mol.energies["hf"], abs=1e-8)
    n = expval(mol.hf_circuit, mol.number_operator(), dtype="complex128")
    assert float(n.reshape(-1)[0]) == pytest.approx(mol.n_electrons, abs=1e-10)


def test_integrals_are_chemists_notation(molecules):
    """E_HF = E_core + sum_i 2 h_ii + sum_ij [2 (ii|jj) - (ij|ji)] over doubly occupied active orbitals."""
    mol = molecules("H2O", (4, 4))
    h, g = mol.one_body, mol.two_body
    assert h.shape == (4, 4) and g.shape == (4, 4, 4, 4)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    np.testing.assert_allclose(g, g.transpose(1, 0, 2, 3), atol=1e-12)
    np.testing.assert_allclose(g, g.transpose(2, 3, 0, 1), atol=1e-12)
    occ = range(mol.n_electrons // 2)
    e = mol.constant + sum(2 * h[i, i] for i in occ)
    e += sum(2 * g[i, i, j, j] - g[i, j, j, i] for i in occ for j in occ)
    assert e == pytest.approx(mol.energies["hf"], abs=1e-9)
    assert mol.n_core == 3 and mol.active_orbitals == [3, 4, 5, 6]
    assert mol.nuclear_repulsion == pytest.approx(mol.mol.energy_nuc())
    assert mol.core_energy < 0  # the three frozen doubly occupied orbitals
    assert mol.mo_coeff.shape == (7, 7)


def test_full_space_has_no_core_energy(molecules):
    mol = molecules("LiH")
    assert mol.n_core == 0 and mol.core_energy == pytest.approx(0.0, abs=1e-12)
    assert mol.n_electrons == 4 and mol.n_orbitals == 6 and mol.n_qubits == 12
    assert mol.constant == pytest.approx(mol.nuclear_repulsion)


@pytest.mark.parametrize("case", ["H2", "LiH", "LiH-cas23", "H2O", "H2O-cas44"])
def test_pyscf_energies_ordered(case, molecules):
    e = molecules(*CASES[case]).energies
    assert e["fci"] <= e["ccsd"] + 1e-6
    assert e["ccsd"] < e["hf"]
    if case == "H2":  # two electrons: CCSD is exact
        assert e["ccsd"] == pytest.approx(e["fci"], abs=1e-7)


def test_h2_dissociation_curve():
    lengths = [0.5, 0.65, 0.74, 0.85, 1.2, 2.0]
    energies = []
    for r in lengths:
        mol = molecule("H2", bond_length=r)
        energies.append(exact_ground_state(mol.hamiltonian, 2)[0])
        assert energies[-1] == pytest.approx(mol.energies["fci"], abs=1e-8)
        assert mol.geometry[1][1][2] == pytest.approx(r)
    assert lengths[int(np.argmin(energies))] == 0.74
    assert energies[lengths.index(0.74)] < energies[lengths.index(2.0)]
    # monotonic on both sides of the minimum
    assert np.all(np.diff(energies[:3]) < 0) and np.all(np.diff(energies[2:]) > 0)


def test_water_bond_length_keeps_angle():
    mol = molecule("H2O", bond_length=1.2, active_space=(4, 4))
    o, h1, h2 = (np.asarray(xyz) for _, xyz in mol.geometry)
    assert np.linalg.norm(h1 - o) == pytest.approx(1.2) and np.linalg.norm(h2 - o) == pytest.approx(1.2)
    cos = np.dot(h1 - o, h2 - o) / 1.2**2
    assert np.degrees(np.arccos(cos)) == pytest.approx(104.45)
    assert exact_ground_state(mol.hamiltonian, 4)[0] == pytest.approx(mol.energies["fci"], abs=1e-8)


def test_geometry_inputs_and_open_shell(molecules):
    by_name = molecules("H2")
    by_list = molecule([("H", (0, 0, 0)), ("H", (0, 0, 0.7414))])
    by_string = molecule("H 0 0 0; H 0 0 0.7414")
    for other in (by_list, by_string):
        assert other.energies["fci"] == pytest.approx(by_name.energies["fci"], abs=1e-10)
        assert other.name == "H2"
    name, atoms = _resolve_geometry([("H", (0, 0, 0)), ("H", (0, 0.6, 0.8))], bond_length=2.0)
    assert name == "H2" and atoms[1][1] == pytest.approx((0, 1.2, 1.6))
    assert _resolve_geometry("h2", None) == ("H2", GEOMETRIES["H2"])
    assert _resolve_geometry("N2", 1.5)[1][1][1][2] == pytest.approx(1.5)
    assert set(GEOMETRIES) >= {"H2", "LiH", "H2O", "BeH2", "N2"}

    # ROHF: the H2O cation (doublet) in a (3, 4) active space
    cation = molecule("H2O", charge=1, spin=1, active_space=(3, 4))
    assert (cation.n_alpha, cation.n_beta) == (2, 1) and cation.hf_bitstring == "00000111"
    energy, _ = exact_ground_state(cation.hamiltonian, 3)
    assert energy == pytest.approx(cation.energies["fci"], abs=1e-8)
    assert cation.energies["fci"] <= cation.energies["ccsd"] + 1e-6 < cation.energies["hf"] + 1e-6

    from circuits import expval

    value = expval(cation.hf_circuit, cation.hamiltonian, dtype="complex128")
    assert float(value.reshape(-1)[0]) == pytest.approx(cation.energies["hf"], abs=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"geometry_or_name": "H3O"}, "unknown molecule name 'H3O'"),
        ({"geometry_or_name": "H2", "charge": 1}, "odd electron count"),
        ({"geometry_or_name": "H 0 0 0"}, "odd electron count"),
        ({"geometry_or_name": "LiH", "active_space": (2, 7)}, "basis has only 6 orbitals"),
        ({"geometry_or_name": "H2", "active_space": (4, 2)}, "molecule has only 2"),
        ({"geometry_or_name": "H2", "active_space": (2, 0)}, "active_space orbitals"),
        ({"geometry_or_name": "H2O", "active_space": (6, 6)}, "needs 2 core \\+ 6 active orbitals"),
        ({"geometry_or_name": "LiH", "active_space": (4, 1)}, "4 electrons do not fit in 1 orbitals"),
        ({"geometry_or_name": "LiH", "active_space": (3, 3)}, "leaves 1 core electrons"),
        ({"geometry_or_name": "H2", "bond_length": -0.5}, "bond_length must be positive"),
        ({"geometry_or_name": "H2", "mapping": "bravyi_kitaev"}, "unknown mapping 'bravyi_kitaev'"),
        ({"geometry_or_name": [("H", (0, 0))]}, "geometry entry 0"),
        ({"geometry_or_name": "H2O", "spin": -2}, "spin must be"),
        (
            {
                "geometry_or_name": [("H", (0, 0, 0)), ("H", (0, 0, 1)), ("H", (0, 1, 0))],
                "spin": 1,
                "bond_length": 1.0,
            },
            "needs a diatomic",
        ),
    ],
)
def test_bad_input_raises(kwargs, match):
    with pytest.raises(ChemistryError, match=match):  # a KetmlError and a ValueError
        molecule(**kwargs)


def test_unknown_molecule_name_is_an_unknown_name_error():
    with pytest.raises(UnknownNameError, match="known names: H2, LiH") as info:
        molecule("H3O")
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    assert str(info.value).startswith("unknown molecule name 'H3O'")  # not quoted like a KeyError
