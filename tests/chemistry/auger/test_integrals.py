"""chemistry.auger.{radial,basis,angular,continuum,integrals,tables}: the one-centre Auger integrals:
bound functions and two-electron integrals against pyscf,
hydrogenic Slater integrals, Gaunt coefficients against sympy, continuum waves against mpmath, and
the symmetry, selection rules, tables and input checks of the provider."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("pyscf")
pytest.importorskip("mpmath")

from pyscf import gto  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402
from scipy.special import spherical_jn  # noqa: E402

from chemistry.auger.angular import (  # noqa: E402
    real_gaunt,
    real_gaunt_sympy,
    real_m_order,
    real_spherical_harmonics,
)
from chemistry.auger.basis import bound_basis, default_occupations  # noqa: E402
from chemistry.auger.continuum import ContinuumWave, continuum_wave, coulomb_wave  # noqa: E402
from chemistry.auger.integrals import AtomicAugerIntegrals, OneCentreIntegrals, one_centre_eri  # noqa: E402
from chemistry.auger.radial import HARTREE_EV, RadialGrid, slater_integral  # noqa: E402
from chemistry.auger.tables import load_table, table  # noqa: E402

E500 = 500.0 / HARTREE_EV


def _mol(element: str, basis: str):
    z = gto.charge(element)
    return gto.M(atom=f"{element} 0 0 0", basis=basis, spin=z % 2, verbose=0)


@pytest.fixture(scope="module")
def provider() -> AtomicAugerIntegrals:
    return AtomicAugerIntegrals()


@pytest.fixture(scope="module")
def v500(provider) -> np.ndarray:
    return provider(E500)


# ---------------------------------------------------------------------------------------------
# bound functions


@pytest.mark.parametrize("basis", ["sto-3g", "cc-pvdz"])
def test_bound_radials_normalised_and_overlaps_match_pyscf(basis):
    bb = bound_basis("O", basis)
    grid = RadialGrid()
    p = [sh.radial(grid.r) for sh in bb.shells]
    for sh, pi in zip(bb.shells, p, strict=True):
        assert grid.integrate(pi * pi) == pytest.approx(1.0, abs=1e-10), sh.label
    n = bb.n_ao
    s = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            si, sj = bb.ao_shell[i], bb.ao_shell[j]
            if bb.shells[si].l == bb.shells[sj].l and bb.ao_m_index[i] == bb.ao_m_index[j]:
                s[i, j] = grid.integrate(p[si] * p[sj])
    ref = _mol("O", basis).intor("int1e_ovlp")
    assert abs(ref[0, 1]) > 0.1  # 1s/2s overlap: a real check of the contraction
    np.testing.assert_allclose(s, ref, atol=1e-9)


def test_ao_order_matches_pyscf():
    bb = bound_basis("O", "sto-3g")
    assert list(bb.ao_labels) == _mol("O", "sto-3g").ao_labels()
    assert [lab.split()[-1] for lab in bb.ao_labels] == ["1s", "2s", "2px", "2py", "2pz"]
    assert real_m_order(1) == (1, -1, 0)  # x, y, z
    assert real_m_order(2) == (-2, -1, 0, 1, 2)


@pytest.mark.parametrize("l", [1, 2])
def test_real_harmonics_match_pyscf_angular_functions(l):
    """pyscf's AO values on a sphere are (positive constant) x our real harmonics: same order and signs."""
    mol = _mol("O", "cc-pvdz")
    rng = np.random.default_rng(1)
    u = rng.normal(size=(40, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    ao = mol.eval_gto("GTOval_sph", 0.7 * u)
    first = next(i for i, lab in enumerate(mol.ao_labels(fmt=False)) if lab[2][-1] == "spd"[l])
    block = ao[:, first : first + 2 * l + 1]
    ylm = real_spherical_harmonics(l, u[:, 2], np.arctan2(u[:, 1], u[:, 0])).T
    ratio = block / ylm
    assert np.all(ratio[np.abs(ylm) > 0.05] > 0)
    np.testing.assert_allclose(block, ylm * np.median(ratio[np.abs(ylm) > 0.05]), atol=1e-10)


# ---------------------------------------------------------------------------------------------
# two-electron integrals


@pytest.mark.parametrize("element,basis", [("O", "sto-3g"), ("O", "cc-pvdz"), ("N", "6-31g")])
def test_bound_eri_matches_pyscf_int2e(element, basis):
    """Same radial + Gaunt code path as the continuum integrals, bound functions everywhere."""
    bb = bound_basis(element, basis)
    grid = RadialGrid()
    shells = [(sh.l, sh.radial(grid.r)) for sh in bb.shells]
    eri = one_centre_eri(shells, shells, shells, shells, grid)
    ref = _mol(element, basis).intor("int2e").transpose(0, 2, 1, 3)  # (ac|bd) -> <ab|cd>
    np.testing.assert_allclose(eri, ref, atol=1e-8)


def test_provider_layout_with_bound_functions_in_place_of_the_continuum():
    """Put bound 1s (l=0) and 2p (l=1) where the continuum goes: V[l, m, k, mu, nu] must be pyscf's
    <eps k|mu nu> = (eps mu|k nu), which checks the provider's index order and padding."""

    class BoundAsContinuum(AtomicAugerIntegrals):
        def continuum(self, kinetic_energy_hartree):
            grid = self.grid
            sh = self.basis.shells
            e = kinetic_energy_hartree
            return [ContinuumWave(e, s.l, grid, s.radial(grid.r), 0.0) for s in (sh[0], sh[2])]

    v = BoundAsContinuum(lmax=1)(1.0)
    ref = _mol("O", "sto-3g").intor("int2e")  # (ij|kl)
    np.testing.assert_allclose(v[0, 0], np.einsum("mkn->kmn", ref[0]), atol=1e-8)
    for m in range(3):
        np.testing.assert_allclose(v[1, m], np.einsum("mkn->kmn", ref[2 + m]), atol=1e-8)
    assert np.all(v[0, 1:] == 0)


@pytest.mark.parametrize("z", [2.0, 8.0])
def test_hydrogenic_slater_integrals(z):
    grid = RadialGrid(r_max=40.0)
    r = grid.r
    p1s = 2 * z**1.5 * r * np.exp(-z * r)
    p2s = 2 * (z / 2) ** 1.5 * (1 - z * r / 2) * np.exp(-z * r / 2) * r
    p2p = (z / 2) ** 1.5 / math.sqrt(3) * z * r * np.exp(-z * r / 2) * r
    cases = [
        (0, p1s, p1s, p1s, p1s, 5 / 8),  # F0(1s,1s)
        (0, p1s, p1s, p2s, p2s, 17 / 81),  # F0(1s,2s)
        (0, p1s, p2s, p2s, p1s, 16 / 729),  # G0(1s,2s)
        (0, p1s, p1s, p2p, p2p, 59 / 243),  # F0(1s,2p)
        (1, p1s, p2p, p2p, p1s, 112 / 2187),  # G1(1s,2p)
        (0, p2p, p2p, p2p, p2p, 93 / 512),  # F0(2p,2p)
        (2, p2p, p2p, p2p, p2p, 45 / 512),  # F2(2p,2p)
    ]
    for k, a, b, c, d, want in cases:
        assert slater_integral(k, a, b, c, d, grid) == pytest.approx(want * z, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# angular part


def test_gaunt_known_values():
    assert real_gaunt(0, 0, 0)[0, 0, 0] == pytest.approx(1 / math.sqrt(4 * math.pi))
    np.testing.assert_allclose(real_gaunt(1, 1, 0)[:, :, 0], np.eye(3) / math.sqrt(4 * math.pi), atol=1e-14)
    # <p_z p_z Y_20> = (3/4pi) sqrt(5/4pi) int cos^2 (3cos^2 - 1)/2 dOmega = 1/sqrt(5 pi)
    assert real_gaunt(1, 1, 2)[2, 2, 2] == pytest.approx(1 / math.sqrt(5 * math.pi))
    # Y_1 points along x, y, z in storage order
    y = real_spherical_harmonics(1, np.array([0.0, 0.0, 1.0]), np.array([0.0, math.pi / 2, 0.0]))
    np.testing.assert_allclose(y, math.sqrt(3 / (4 * math.pi)) * np.eye(3), atol=1e-14)


def test_real_gaunt_matches_sympy():
    for l1 in range(4):
        for l2 in range(3):
            for l3 in range(4):
                want = real_gaunt_sympy(l1, l2, l3)
                np.testing.assert_allclose(real_gaunt(l1, l2, l3), want, atol=1e-13, err_msg=f"{l1}{l2}{l3}")


# ---------------------------------------------------------------------------------------------
# continuum


def test_free_wave_normalisation():
    """mpmath's Coulomb function with no charge is the energy-normalised Riccati-Bessel wave."""
    e, r = 3.0, np.array([0.3, 1.0, 4.0, 9.0])
    k = math.sqrt(2 * e)
    for l in range(3):
        want = math.sqrt(2 / (math.pi * k)) * k * r * spherical_jn(l, k * r)
        np.testing.assert_allclose(coulomb_wave(e, l, 0.0, r), want, atol=1e-12)


@pytest.mark.parametrize("z,energy_ev", [(2.0, 500.0), (8.0, 500.0), (2.0, 30.0)])
def test_numerov_continuum_matches_mpmath_coulomb(z, energy_ev):
    e = energy_ev / HARTREE_EV
    grid = RadialGrid().for_wavenumber(math.sqrt(2 * e))
    with np.errstate(divide="ignore"):
        v = -z / grid.r
    idx = np.searchsorted(grid.r, [0.01, 0.1, 0.5, 1.0, 3.0, 7.0, 12.0, 19.0])
    for l in range(3):
        wave = continuum_wave(e, l, v, z, z, grid)
        ref = coulomb_wave(e, l, z, grid.r[idx])
        np.testing.assert_allclose(wave.p[idx], ref, atol=3e-7)
        assert abs(wave.phase_shift) < 1e-6


def test_screened_continuum_is_energy_normalised(provider):
    """At large r the WKB amplitude P^2 + (P'/k_loc)^2 equals 2/(pi k_loc)."""
    waves = provider.continuum(E500)
    grid = waves[0].grid
    r = grid.r
    sel = np.flatnonzero((r > 14) & (r < 19))
    for w in waves:
        p = w.p
        dpx = (-p[sel + 2] + 8 * p[sel + 1] - 8 * p[sel - 1] + p[sel - 2]) / (12 * grid.step)
        dp = dpx / grid.dr[sel]
        k_loc = np.sqrt(2 * (E500 + provider.z_ion / r[sel]) - w.l * (w.l + 1) / r[sel] ** 2)
        amp = p[sel] ** 2 + (dp / k_loc) ** 2
        np.testing.assert_allclose(amp, 2 / (math.pi * k_loc), rtol=2e-4)


def test_screened_potential_limits(provider):
    assert default_occupations(provider.basis, 2) == {"1s": 2.0, "2s": 2.0, "2p": 2.0}
    grid = provider.grid
    v, z = provider.radial_potential(grid)
    assert z == 8.0
    assert grid.r[-1] * v[-1] == pytest.approx(-2.0, abs=1e-9)
    i = np.searchsorted(grid.r, 1e-3)
    assert grid.r[i] * v[i] == pytest.approx(-8.0, abs=0.05)


# ---------------------------------------------------------------------------------------------
# provider: layout, symmetry, selection rules


def test_provider_shape_padding_and_protocol(provider, v500):
    assert isinstance(provider, OneCentreIntegrals)
    assert v500.shape == (3, 5, 5, 5, 5)
    assert np.all(v500[0, 1:] == 0) and np.all(v500[1, 3:] == 0)
    assert np.all(np.isfinite(v500))
    np.testing.assert_array_equal(provider(E500), v500)  # cached, returns a copy
    assert np.max(np.abs(v500[2])) > 1e-3  # the d channel matters (KL23L23)


def test_rotation_invariance(v500):
    """Rotating the orbitals about the emitter (p block by a rotation matrix, s unchanged) leaves
    sum_m |sum V a_k b_mu c_nu|^2 unchanged in every l channel."""
    rng = np.random.default_rng(7)
    t = np.eye(5)
    t[2:, 2:] = Rotation.random(random_state=3).as_matrix()
    for _ in range(3):
        a, b, c = rng.normal(size=(3, 5))

        def channel(a, b, c):
            return np.sum(np.einsum("lmkpq,k,p,q->lm", v500, a, b, c) ** 2, axis=1)

        before = channel(a, b, c)
        after = channel(t @ a, t @ b, t @ c)
        np.testing.assert_allclose(after, before, rtol=1e-10, atol=1e-16)
        assert np.all(before > 0)


def test_selection_rules(provider, v500):
    """V = 0 unless l + l_mu + l_k + l_nu is even and the triangles (l, l_mu, k), (l_k, l_nu, k)
    share a multipole k; allowed blocks are non-zero."""
    shells = provider.basis.shells
    ao_l = [shells[s].l for s in provider.basis.ao_shell]
    for l in range(3):
        for k_ in range(5):
            for mu in range(5):
                for nu in range(5):
                    lk, lm, ln = ao_l[k_], ao_l[mu], ao_l[nu]
                    ks = [
                        q
                        for q in range(abs(l - lm), l + lm + 1)
                        if abs(lk - ln) <= q <= lk + ln and (l + lm + q) % 2 == 0 and (lk + ln + q) % 2 == 0
                    ]
                    block = v500[l, : 2 * l + 1, k_, mu, nu]
                    if (l + lm + lk + ln) % 2 or not ks:
                        assert np.all(block == 0), (l, k_, mu, nu)
    # e.g. KL23L23 through eps-s and eps-d, KL1L23 through eps-p, no eps-s from (1s, 2s, 2p)
    assert abs(v500[0, 0, 0, 2, 2]) > 0 and np.max(np.abs(v500[2, :, 0, 2:, 2:])) > 0
    assert np.max(np.abs(v500[1, :3, 0, 1, 2:])) > 0
    assert np.all(v500[0, 0, 0, 1, 2:] == 0) and np.all(v500[2, :, 0, 0, 0] == 0)


def test_grid_convergence(v500):
    fine = AtomicAugerIntegrals(grid=RadialGrid(r0=0.03, h=0.001, r_max=24.0), phase_step=0.03)
    assert fine.continuum(E500)[0].grid.n > 1.5 * RadialGrid().for_wavenumber(math.sqrt(2 * E500)).n
    np.testing.assert_allclose(fine(E500), v500, atol=1e-6 * np.max(np.abs(v500)))


def test_coulomb_provider_uses_the_coulomb_wave():
    prov = AtomicAugerIntegrals(potential="coulomb", lmax=1)
    waves = prov.continuum(E500)
    r = waves[0].grid.r
    idx = np.searchsorted(r, [0.2, 1.0, 2.5])
    for w in waves:
        np.testing.assert_allclose(w.p[idx], coulomb_wave(E500, w.l, 2.0, r[idx]), atol=3e-7)
    assert prov(E500).shape == (2, 3, 5, 5, 5)


# ---------------------------------------------------------------------------------------------
# tables and input checks


def test_table_roundtrip(tmp_path, provider):
    path = table(tmp_path / "o_oca.json", energies_ev=(490.0, 500.0), provider=provider)
    tab = load_table(path)
    assert tab.ao_labels == provider.ao_labels
    assert tab.metadata["element"] == "O" and tab.metadata["potential"] == "screened"
    np.testing.assert_allclose(tab(500.0 / HARTREE_EV), provider.at_ev(500.0), rtol=0, atol=1e-15)
    np.testing.assert_allclose(tab(490.0 / HARTREE_EV), provider.at_ev(490.0), rtol=0, atol=1e-15)
    mid = tab(495.0 / HARTREE_EV)
    np.testing.assert_allclose(mid, 0.5 * (provider.at_ev(490.0) + provider.at_ev(500.0)), atol=1e-15)
    # linear interpolation over 10 eV is close to the computed value in between
    assert np.max(np.abs(mid - provider.at_ev(495.0))) < 0.05 * np.max(np.abs(mid))
    with pytest.raises(ValueError, match="outside the table"):
        tab(520.0 / HARTREE_EV)


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="unknown element"):
        AtomicAugerIntegrals(element="Xx")
    with pytest.raises(ValueError, match="unknown basis"):
        AtomicAugerIntegrals(basis="no-such-basis")
    with pytest.raises(ValueError, match="lmax"):
        AtomicAugerIntegrals(lmax=-1)
    with pytest.raises(ValueError, match="potential"):
        AtomicAugerIntegrals(potential="yukawa")
    with pytest.raises(ValueError, match="z_ion"):
        AtomicAugerIntegrals(z_ion=9)
    with pytest.raises(ValueError, match="occupations"):
        AtomicAugerIntegrals(occupations={"1s": 2.0, "2s": 2.0, "2p": 4.0})
    with pytest.raises(ValueError, match="r_max"):
        AtomicAugerIntegrals(grid=RadialGrid(r_max=4.0))
    prov = AtomicAugerIntegrals(lmax=0)
    for bad in (-1.0, 0.0, float("nan")):
        with pytest.raises(ValueError, match="kinetic energy"):
            prov(bad)
    with pytest.raises(ValueError, match="kinetic energy"):
        coulomb_wave(-1.0, 0, 2.0, np.array([1.0]))
    bad_table = tmp_path / "bad.json"
    bad_table.write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="table"):
        load_table(bad_table)
