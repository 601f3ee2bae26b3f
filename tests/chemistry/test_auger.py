"""chemistry.auger: the OCA contraction equals a brute-force evaluation, q-sc-EOM with complete
manifolds gives the FCI spectrum, rates do not depend on the orbital basis, and bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyscf")

from chemistry import molecule  # noqa: E402
from chemistry.auger import (  # noqa: E402
    AugerSpectrum,
    auger_spectrum,
    emitter_projection,
    molecular_integrals,
    rates,
)
from chemistry.fermion_ops import annihilate, create, transition_rdm  # noqa: E402
from chemistry.orbital_rotation import random_rotation, rotate_orbitals  # noqa: E402
from chemistry.pauli_evolution import PauliSequence  # noqa: E402

HF_GEOMETRY = [("H", (0.0, 0.0, 0.0)), ("F", (0.0, 0.0, 0.917))]
_cache = {}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    from pyscf import lib
    from threadpoolctl import threadpool_limits

    before = lib.num_threads()
    lib.num_threads(1)
    with threadpool_limits(1):
        yield
    lib.num_threads(before)


def hydrogen_fluoride():
    """12 qubits, 10 electrons, F 1s in the active space: small sectors, a real core hole."""
    if "hf" not in _cache:
        _cache["hf"] = molecule(HF_GEOMETRY)
    return _cache["hf"]


def random_integrals(seed=0):
    v = np.random.default_rng(seed).normal(size=(3, 5, 5, 5, 5))
    return lambda energy: v


def test_contraction_equals_brute_force():
    rng = np.random.default_rng(1)
    n_ao, n_orb, n_so = 5, 3, 6
    v = rng.normal(size=(2, 3, n_ao, n_ao, n_ao))
    d = rng.normal(size=(n_ao, n_orb))
    w = molecular_integrals(v, d, core=0)
    brute = np.zeros((2, 3, n_orb, n_orb))
    for l_, m, p, q in np.ndindex(*brute.shape):
        for k, mu, nu in np.ndindex(n_ao, n_ao, n_ao):
            brute[l_, m, p, q] += d[k, 0] * d[mu, p] * d[nu, q] * v[l_, m, k, mu, nu]
    np.testing.assert_allclose(w, brute, atol=1e-12)
    # rates: amplitude of <K, eps sigma| sum W a+_eps a+_c a_q a_p |I> built from ladder operators
    initial = rng.normal(size=2**n_so) + 1j * rng.normal(size=2**n_so)
    finals = rng.normal(size=(4, 2**n_so)) + 1j * rng.normal(size=(4, 2**n_so))
    core_spin = 1
    core = 2 * 0 + core_spin
    gam = transition_rdm(finals, initial, core)
    expected = np.zeros(4)
    for sigma in (0, 1):
        for l_, m in np.ndindex(2, 3):
            vec = np.zeros(2**n_so, dtype=complex)
            for p, q in np.ndindex(n_orb, n_orb):
                state = annihilate(initial[None], 2 * p + sigma)
                state = annihilate(state, 2 * q + core_spin)  # a_q a_p |I>, q on the core's spin
                vec += w[l_, m, p, q] * create(state, core)[0]
            expected += np.abs(finals.conj() @ vec) ** 2
    np.testing.assert_allclose(rates(w, gam, core_spin), 2 * np.pi * expected, rtol=1e-10)


def test_complete_q_sc_eom_manifolds_give_the_fci_spectrum():
    mol = hydrogen_fluoride()
    ints = random_integrals()
    fci = auger_spectrum(mol, "fci", integrals=ints)
    eom = auger_spectrum(mol, "q-sc-eom", ground_state=PauliSequence([], [], mol.n_qubits),
                         ip_manifold="full", dip_manifold="full", integrals=ints)
    assert eom.core_hole_energy == pytest.approx(fci.core_hole_energy, abs=1e-9)
    grid = np.linspace(600, 680, 400)
    a, b = fci.broadened(grid)[1], eom.broadened(grid)[1]
    assert np.max(np.abs(a - b)) < 1e-8 * np.max(a)
    # and the standard manifolds differ from exact (so the comparison above is not vacuous)
    std = auger_spectrum(mol, "q-sc-eom", ground_state=PauliSequence([], [], mol.n_qubits), integrals=ints)
    assert abs(std.core_hole_energy - fci.core_hole_energy) > 1e-4


def test_rates_do_not_depend_on_the_orbital_basis():
    mol = hydrogen_fluoride()
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


def test_bad_input():
    mol = hydrogen_fluoride()
    with pytest.raises(ValueError, match="unknown Auger method"):
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


def test_water_fci_spectrum_has_the_known_lines():
    """O 1s Auger of water (STO-3G FCI + OCA with the computed oxygen integrals): the 1b1^-2 and
    3a1^-1 1b1^-1 singlets (holes in orbitals 4/4 and 3/4) are the two strongest lines, the
    1b2^-1 1b1^-1, 1b2^-1 3a1^-1 and 1b2^-2 lines sit where an independent FCI/OCA calculation
    puts them (500.49, 498.27, 492.82 eV), triplets are weak, and the total width is the ~0.1 eV
    of an oxygen K hole."""
    water = molecule("H2O")
    spec = auger_spectrum(water, "fci")
    top = np.argsort(-spec.rates)
    strongest = {spec.labels[i].split("(")[0].split(" ", 1)[1].strip() for i in top[:2]}
    assert "4a 4b" in strongest and strongest & {"3a 4b", "3b 4a"}
    for holes, energy in (("2a 4b", 500.49), ("2b 3a", 498.27), ("2a 2b", 492.82)):
        k = [i for i, lab in enumerate(spec.labels) if lab.split(" ", 1)[1].startswith(holes)]
        assert k, holes
        best = max(k, key=lambda i: spec.rates[i])
        assert abs(spec.kinetic_energies[best] - energy) < 0.3
    triplet = sum(r for r, lab in zip(spec.rates, spec.labels, strict=True) if lab.startswith("Sz=-1"))
    assert triplet < 0.1 * spec.rates.sum()
    width_ev = spec.rates.sum() * 27.211386
    assert 0.03 < width_ev < 0.3
