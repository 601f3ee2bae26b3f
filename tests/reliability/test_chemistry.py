"""Chemistry input under bad geometry: unknown element symbols are refused (not read as ghost
atoms), overlapping atoms are named before pyscf fails, output folders are checked first."""

from __future__ import annotations

import re

import pytest

from circuits.errors import ChemistryError

pytest.importorskip("pyscf")

from chemistry import molecule  # noqa: E402


@pytest.mark.parametrize(
    "geometry, named",
    [
        ("Xx 0 0 0; H 0 0 0.74", "atom 1: unknown element symbol 'Xx'"),
        ("X 0 0 0; H 0 0 0.74", "atom 1: unknown element symbol 'X'"),
        ("H 0 0 0; Zz 0 0 0.74", "atom 2: unknown element symbol 'Zz'"),
        ("H 0 0 0\nQ 0 0 0.74", "atom 2: unknown element symbol 'Q'"),
        ([("H", (0, 0, 0)), ("Hx", (0, 0, 0.74))], "atom 2: unknown element symbol 'Hx'"),
        ([("H", (0, 0, 0)), ("ghost", (0, 0, 0.74))], "unknown element symbol 'ghost'"),
        ("200 0 0 0; H 0 0 0.74", "atom 1: 200 is not an atomic number"),
    ],
)
def test_unknown_element_symbols_are_refused_by_name(geometry, named):
    with pytest.raises(ChemistryError, match=named):
        molecule(geometry)


@pytest.mark.parametrize(
    "geometry, named",
    [
        ("H 0 0 0; H 0 0 0", "atoms 1 (H) and 2 (H) are 0 Angstrom apart"),
        ("O 0 0 0; H 0 0 0.96; H 0 0 0.99", "atoms 2 (H) and 3 (H) are 0.03 Angstrom apart"),
        ([("Li", (0, 0, 0)), ("H", (0, 0, 1e-3))], "atoms 1 (Li) and 2 (H) are 0.001 Angstrom apart"),
    ],
)
def test_overlapping_atoms_are_named_not_a_singular_matrix(geometry, named):
    with pytest.raises(ChemistryError, match=re.escape(named)) as err:
        molecule(geometry)
    assert "singular" not in str(err.value).lower() and "at least 0.1 Angstrom" in str(err.value)


def test_a_named_molecule_squeezed_by_bond_length_is_named_too():
    with pytest.raises(ChemistryError, match="atoms 1 \\(H\\) and 2 \\(H\\) are 0.05 Angstrom apart"):
        molecule("H2", bond_length=0.05)


def test_valid_spellings_pass_the_checks():
    from pyscf import gto

    from chemistry.molecules import _check_atoms

    # lower case, pyscf's numbered labels, atomic numbers, commas, lists, explicit ghosts, close atoms
    for geometry in (
        "h 0 0 0; H1 0 0 0.74",
        "1 0 0 0; 1 0 0 0.74",
        "H 0, 0, 0; H 0, 0, 0.74",
        [("Li", (0, 0, 0)), ("H", (0, 0, 1.6))],
        "H 0 0 0; H 0 0 0.74; ghost-H 0 0 3; X-O 0 0 5",
        "H 0 0 0; H 0 0 0.11",
    ):
        _check_atoms(geometry, gto)


@pytest.mark.slow
def test_valid_spellings_still_build_the_same_molecule():
    reference = molecule("H 0 0 0; H 0 0 0.74").energies["hf"]
    assert molecule("h 0 0 0; H1 0 0 0.74").energies["hf"] == pytest.approx(reference, abs=1e-9)
    # an explicit ghost atom (basis functions, no nucleus) is allowed
    ghost = molecule("H 0 0 0; H 0 0 0.74; ghost-H 0 0 3")
    assert ghost.n_electrons == 2 and ghost.energies["hf"] == pytest.approx(reference, abs=1e-3)
