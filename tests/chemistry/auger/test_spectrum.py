"""chemistry.auger.spectrum: q-sc-EOM with complete manifolds gives the FCI spectrum, rates do not
depend on the orbital basis, water's lines sit where they should under names that do not depend on
eigensolver tie-breaks, and bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyscf")

from chemistry.auger.projection import emitter_projection  # noqa: E402
from chemistry.auger.spectrum import AugerSpectrum, auger_spectrum  # noqa: E402
from chemistry.orbital_rotation import random_rotation, rotate_orbitals  # noqa: E402
from chemistry.pauli_evolution import PauliSequence  # noqa: E402
from circuits.errors import ChemistryError  # noqa: E402


def random_integrals(seed=0):
    v = np.random.default_rng(seed).normal(size=(3, 5, 5, 5, 5))
    return lambda energy: v


def test_complete_q_sc_eom_manifolds_give_the_fci_spectrum(hydrogen_fluoride):
    mol = hydrogen_fluoride
    ints = random_integrals()
    fci = auger_spectrum(mol, "fci", integrals=ints)
    eom = auger_spectrum(
        mol,
        "q-sc-eom",
        ground_state=PauliSequence([], [], mol.n_qubits),
        ip_manifold="full",
        dip_manifold="full",
        integrals=ints,
    )
    assert eom.core_hole_energy == pytest.approx(fci.core_hole_energy, abs=1e-9)
    grid = np.linspace(600, 680, 400)
    a, b = fci.broadened(grid)[1], eom.broadened(grid)[1]
    assert np.max(np.abs(a - b)) < 1e-8 * np.max(a)
    # and the standard manifolds differ from exact (so the comparison above is not vacuous)
    std = auger_spectrum(mol, "q-sc-eom", ground_state=PauliSequence([], [], mol.n_qubits), integrals=ints)
    assert abs(std.core_hole_energy - fci.core_hole_energy) > 1e-4


def test_rates_do_not_depend_on_the_orbital_basis(hydrogen_fluoride):
    mol = hydrogen_fluoride
    ints = random_integrals(2)
    rotated = rotate_orbitals(mol, random_rotation(mol.n_orbitals, seed=3, fixed=(0,)))
    assert rotated.exact_ground_state()[0] == pytest.approx(mol.energies["fci"], abs=1e-9)
    a = auger_spectrum(mol, "fci", integrals=ints)
    b = auger_spectrum(rotated, "fci", integrals=ints)
    grid = np.linspace(600, 680, 400)
    ya, yb = a.broadened(grid)[1], b.broadened(grid)[1]
    assert np.max(np.abs(ya - yb)) < 1e-8 * np.max(ya)
    # the projection itself does change with the rotation: the invariance is not trivial
    assert not np.allclose(emitter_projection(mol)[0], emitter_projection(rotated)[0])


def test_broadening_keeps_each_line_area_and_finds_peaks():
    s = AugerSpectrum(np.array([490.0, 500.0]), np.array([1.0, 2.0]), np.zeros(2), 0.0, 0.0)
    grid = np.linspace(300, 700, 400001)
    x, y = s.broadened(grid, fwhm=1.0)
    assert np.trapezoid(y, x) == pytest.approx(3.0, rel=2e-3)
    peaks = s.peaks(fwhm=1.0)
    assert peaks[0][0] == pytest.approx(500.0, abs=0.01) and peaks[1][0] == pytest.approx(490.0, abs=0.01)
    assert peaks[1][1] == pytest.approx(0.5, abs=0.01)


def test_bad_input(hydrogen_fluoride):
    mol = hydrogen_fluoride
    with pytest.raises(ChemistryError, match="unknown Auger method"):
        auger_spectrum(mol, "ccsd")
    with pytest.raises(ValueError, match="ground_state"):
        auger_spectrum(mol, "q-sc-eom")
    with pytest.raises(ValueError, match="active space"):
        auger_spectrum(mol, "fci", core_orbital=6)
    with pytest.raises(ValueError, match="core_spin"):
        auger_spectrum(mol, "fci", core_spin=2)
    with pytest.raises(ValueError, match="fwhm"):
        AugerSpectrum(np.array([1.0]), np.array([1.0]), np.zeros(1), 0.0, 0.0).broadened(fwhm=0)
    with pytest.raises(ValueError, match="orthogonal"):
        rotate_orbitals(mol, np.ones((6, 6)))


def test_water_fci_spectrum_has_the_known_lines(molecules):
    """O 1s Auger of water (STO-3G FCI + OCA with the computed oxygen integrals): the 1b1^-2 and
    3a1^-1 1b1^-1 singlets (holes in orbitals 4,4 and 3,4) are the two strongest lines, the
    1b2^-1 1b1^-1, 1b2^-1 3a1^-1 and 1b2^-2 singlets sit where an independent FCI/OCA calculation
    puts them (500.49, 498.27, 492.82 eV), triplets are weak, and the total width is the ~0.1 eV
    of an oxygen K hole.

    Lines are found by what is invariant (spatial holes summed over spin, S from <S^2>), never by
    the largest determinant: in a singlet the two spin-flipped determinants tie, and which one wins
    depends on the CPU and BLAS (issue 15)."""
    spec = auger_spectrum(molecules("H2O"), "fci")
    assert len(spec.labels) == len(spec.characters) == len(spec.rates)
    assert all(abs(c.spin_squared - c.spin * (c.spin + 1)) < 1e-8 for c in spec.characters)
    top = np.argsort(-spec.rates)[:2]
    assert {spec.characters[i].holes for i in top} == {(4, 4), (3, 4)}
    assert all(spec.characters[i].spin == 0 for i in top)
    assert spec.labels[top[0]] in ("holes 4,4 S=0 (singlet)", "holes 3,4 S=0 (singlet)")
    for holes, energy in (((2, 4), 500.49), ((2, 3), 498.27), ((2, 2), 492.82)):
        singlets = spec.select(holes, spin=0)
        assert len(singlets), holes
        best = singlets[np.argmax(spec.rates[singlets])]
        assert abs(spec.kinetic_energies[best] - energy) < 0.3, (holes, spec.kinetic_energies[best])
    # each triplet appears once per S_z sector the decay reaches (M_S = 0 and -1), at one energy
    triplet_24 = spec.select((2, 4), spin=1)
    assert len(triplet_24) == 2
    assert np.ptp(spec.kinetic_energies[triplet_24]) < 1e-6
    triplet = spec.rates[spec.select(spin=1)].sum()
    assert 0 < triplet < 0.1 * spec.rates.sum()
    width_ev = spec.rates.sum() * 27.211386
    assert 0.03 < width_ev < 0.3
