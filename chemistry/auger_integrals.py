"""One-centre atomic Auger integrals ``<eps_lm k | mu nu>`` for the OCA rates of :mod:`chemistry.auger`.

Definition (real functions, atomic units, energy-normalised continuum)::

    V[l, m, k, mu, nu] = <eps_lm k | mu nu>
                       = int int eps_lm(r1) chi_mu(r1) / r12 * chi_k(r2) chi_nu(r2) dr1 dr2

Electron 1 goes ``mu -> eps_lm`` (into the continuum), electron 2 goes ``nu -> k`` (``k`` is where
the core orbital is put by the caller). ``chi`` are the emitter's minimal-basis AOs in pyscf's AO order
(``mol.ao_labels()`` of the lone atom); ``eps_lm(r) = P_El(r)/r * Y_lm(r^)`` with
``P_El -> sqrt(2/(pi k)) sin(k r + phase)``, ``k = sqrt(2E)``.

With ``1/r12 = sum_kq 4pi/(2k+1) r<^k/r>^(k+1) Y_kq(1) Y_kq(2)`` (real harmonics)::

    V = sum_k 4pi/(2k+1) R^k(eps_l, mu; k, nu) sum_q G(l m, l_mu m_mu, k q) G(l_k m_k, l_nu m_nu, k q)

with Slater radial integrals ``R^k`` (Y^k-potential method) and real Gaunt coefficients ``G``.
Selection rule: ``l + l_mu + k`` and ``l_k + l_nu + k`` are both even, so ``V = 0`` unless
``l + l_mu + l_k + l_nu`` is even, and unless the triangles ``(l, l_mu, k)``, ``(l_k, l_nu, k)`` share a k.

Real spherical harmonics (no Condon-Shortley phase, as pyscf/libcint): ``Y_l0 = N P_l``,
``Y_l,m>0 = sqrt2 N P_l^m cos(m phi)``, ``Y_l,m<0 = sqrt2 N P_l^|m| sin(|m| phi)``. Storage order of m
is pyscf's: l = 1 -> (x, y, z) = m (1, -1, 0); every other l -> m = -l..l (l = 2: xy, yz, z^2, xz, x^2-y^2).

Array layout of a provider call: ``(lmax+1, 2*lmax+1, n_ao, n_ao, n_ao)``; for channel ``l`` only
``m`` slots ``0..2l`` are used (storage order above), the rest are zero padding, so
``sum_{l,m} |A_lm|^2`` over the whole array is the physical channel sum.

Approximations: the bound AOs are the neutral atom's contracted basis functions (no relaxation);
the continuum moves in one static, spherical, local potential for all channels (default: nucleus +
Hartree potential of the dication configuration, O -> 1s2 2s2 2p2, no exchange) or a pure Coulomb
``-z_ion/r``; l <= lmax partial waves only. Numerical accuracy: bound two-electron integrals match
pyscf to ~1e-11; the continuum matches mpmath Coulomb waves to ~3e-7 (absolute, amplitude ~0.3).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from scipy.integrate import cumulative_simpson, simpson

__all__ = [
    "HARTREE_EV",
    "AtomicAugerIntegrals",
    "BoundBasis",
    "ContinuumWave",
    "OneCentreIntegrals",
    "RadialGrid",
    "Shell",
    "TabulatedAugerIntegrals",
    "bound_basis",
    "continuum_wave",
    "coulomb_wave",
    "default_occupations",
    "hartree_potential",
    "load_table",
    "one_centre_eri",
    "real_gaunt",
    "real_gaunt_sympy",
    "real_m_order",
    "real_spherical_harmonics",
    "slater_integral",
    "table",
    "yk_potential",
]

HARTREE_EV = 27.211386245988
TABLE_FORMAT = "ketml-oca-auger-integrals/1"


# ---------------------------------------------------------------------------------------------
# radial grid


@dataclass(frozen=True)
class RadialGrid:
    """Log-linear grid ``r = r0 (exp(x) - 1)``, x uniform: fine at the nucleus (spacing ``r0 h``),
    about ``(r + r0) h`` apart further out; integrals are Simpson rules in x."""

    r0: float = 0.05
    h: float = 0.002
    r_max: float = 20.0

    def __post_init__(self) -> None:
        if not (self.r0 > 0 and self.h > 0 and self.r_max > 0):
            raise ValueError(
                f"grid parameters must be positive, got r0={self.r0}, h={self.h}, r_max={self.r_max}"
            )

    @cached_property
    def n(self) -> int:
        return int(math.ceil(math.log1p(self.r_max / self.r0) / self.h)) + 1

    @cached_property
    def step(self) -> float:
        """The actual x step (``h`` adjusted so that the last point is exactly ``r_max``)."""
        return math.log1p(self.r_max / self.r0) / (self.n - 1)

    @cached_property
    def r(self) -> np.ndarray:
        return self.r0 * np.expm1(np.arange(self.n) * self.step)

    @cached_property
    def dr(self) -> np.ndarray:
        """``dr/dx = r + r0``."""
        return self.r + self.r0

    def integrate(self, f: np.ndarray) -> np.ndarray:
        """``int_0^rmax f(r) dr`` over the last axis."""
        return simpson(f * self.dr, dx=self.step, axis=-1)

    def cumulative(self, f: np.ndarray) -> np.ndarray:
        """``int_0^r f(s) ds`` at every grid point (last axis)."""
        return cumulative_simpson(f * self.dr, dx=self.step, axis=-1, initial=0.0)

    def for_wavenumber(self, k: float, phase_step: float = 0.05) -> RadialGrid:
        """This grid, refined so that an outgoing wave advances at most ``phase_step`` rad per step."""
        h = min(self.h, phase_step / (k * (self.r_max + self.r0)))
        return self if h >= self.h else RadialGrid(self.r0, h, self.r_max)


# ---------------------------------------------------------------------------------------------
# bound radial functions of the emitter's basis (pyscf)


@dataclass(frozen=True)
class Shell:
    """One contracted radial function ``R(r) = sum_i c_i r^l exp(-a_i r^2)`` (c_i include pyscf's
    primitive norms) of angular momentum ``l``; ``label`` is pyscf's ``"2p"``-style name."""

    l: int
    label: str
    exponents: tuple[float, ...]
    coefficients: tuple[float, ...]

    @property
    def n_principal(self) -> int:
        return int(self.label[:-1]) if self.label[:-1].isdigit() else self.l + 1

    def radial(self, r: np.ndarray) -> np.ndarray:
        """``P(r) = r R(r)`` (so that ``int P^2 dr = 1``)."""
        r = np.asarray(r, dtype=float)
        e = np.asarray(self.exponents)[:, None]
        c = np.asarray(self.coefficients)[:, None]
        return r ** (self.l + 1) * np.sum(c * np.exp(-e * r[None, :] ** 2), axis=0)


@dataclass(frozen=True)
class BoundBasis:
    """The atom's contracted shells in pyscf order and its AO labels: AO ``i`` is component
    ``ao_m_index[i]`` (storage order of :func:`real_m_order`) of shell ``ao_shell[i]``."""

    element: str
    basis: str
    charge: int
    shells: tuple[Shell, ...]
    ao_labels: tuple[str, ...]
    ao_shell: tuple[int, ...]
    ao_m_index: tuple[int, ...]

    @property
    def n_ao(self) -> int:
        return len(self.ao_labels)


def _atom_mol(element: str, basis: str):
    """A pyscf Mole for the lone atom, with ValueErrors that name a bad element or basis."""
    from pyscf import gto
    from pyscf.data import elements

    if not isinstance(element, str) or elements.charge(element) <= 0:
        raise ValueError(f"unknown element {element!r}")
    z = int(elements.charge(element))
    symbol = elements.ELEMENTS[z]
    try:
        with warnings.catch_warnings():  # pyscf suggests basis-set-exchange for unknown names
            warnings.simplefilter("ignore", UserWarning)
            return gto.M(atom=f"{symbol} 0 0 0", basis=basis, spin=z % 2, verbose=0)
    except Exception as err:  # pyscf raises several types (BasisNotFoundError, KeyError, ...)
        raise ValueError(f"unknown basis {basis!r} for element {symbol}: {err}") from err


@lru_cache(maxsize=16)
def bound_basis(element: str = "O", basis: str = "sto-3g") -> BoundBasis:
    """Contracted radial functions of ``element`` in ``basis`` from pyscf, in pyscf's AO order."""
    from pyscf import gto

    mol = _atom_mol(element, basis)
    if mol.cart:
        raise ValueError(f"basis {basis!r} builds cartesian functions; only spherical AOs are supported")
    labels = mol.ao_labels()
    raw = mol.ao_labels(fmt=False)
    shells: list[Shell] = []
    ao_shell: list[int] = []
    ao_m: list[int] = []
    for ib in range(mol.nbas):
        l = int(mol.bas_angular(ib))
        exps = np.asarray(mol.bas_exp(ib), dtype=float)
        coeff = np.asarray(mol.bas_ctr_coeff(ib), dtype=float)  # primitive norms excluded
        norms = np.array([gto.gto_norm(l, e) for e in exps])
        for ic in range(coeff.shape[1]):  # pyscf AO order within a shell: contraction-major, then m
            first = len(ao_shell)
            label = raw[first][2]
            shells.append(Shell(l, label, tuple(exps), tuple(coeff[:, ic] * norms)))
            ao_shell.extend([len(shells) - 1] * (2 * l + 1))
            ao_m.extend(range(2 * l + 1))
    if len(ao_shell) != mol.nao:
        raise ValueError(f"AO count mismatch for {element}/{basis}: {len(ao_shell)} vs pyscf {mol.nao}")
    return BoundBasis(
        element=mol.atom_pure_symbol(0),
        basis=basis,
        charge=int(mol.atom_charge(0)),
        shells=tuple(shells),
        ao_labels=tuple(labels),
        ao_shell=tuple(ao_shell),
        ao_m_index=tuple(ao_m),
    )


def default_occupations(basis: BoundBasis, z_ion: int = 2) -> dict[str, float]:
    """Shell occupations of the ion: the neutral ground configuration (pyscf's, filled into the shells
    of each l in basis order) with ``z_ion`` electrons taken from the outermost shells (highest n, then l)."""
    from pyscf.data import elements

    if z_ion < 0 or z_ion > basis.charge:
        raise ValueError(f"z_ion must be in 0..{basis.charge} for {basis.element}, got {z_ion}")
    config = list(elements.CONFIGURATION[basis.charge])
    occ: dict[str, float] = {}
    for sh in basis.shells:
        take = min(config[sh.l], 2 * (2 * sh.l + 1)) if sh.l < len(config) else 0
        occ[sh.label] = float(take)
        if sh.l < len(config):
            config[sh.l] -= take
    if any(c > 0 for c in config):
        raise ValueError(f"basis {basis.basis!r} has too few shells for the configuration of {basis.element}")
    remove = float(z_ion)
    order = sorted(basis.shells, key=lambda s: (s.n_principal, s.l), reverse=True)
    for sh in order:
        take = min(remove, occ[sh.label])
        occ[sh.label] -= take
        remove -= take
    return occ


def _orthonormal_radials(basis: BoundBasis, grid: RadialGrid) -> dict[str, np.ndarray]:
    """Radial functions Gram-Schmidt orthonormalised within each l in basis order (1s, then 2s
    against 1s, ...): orbitals for a density, since contracted AOs of one l need not be orthogonal."""
    out: dict[str, np.ndarray] = {}
    done: dict[int, list[np.ndarray]] = {}
    for sh in basis.shells:
        p = sh.radial(grid.r)
        for q in done.get(sh.l, []):
            p = p - grid.integrate(p * q) * q
        p = p / math.sqrt(grid.integrate(p * p))
        done.setdefault(sh.l, []).append(p)
        out[sh.label] = p
    return out


# ---------------------------------------------------------------------------------------------
# angular part: real spherical harmonics and real Gaunt coefficients


def real_m_order(l: int) -> tuple[int, ...]:
    """Storage order of the real harmonics of ``l`` (pyscf's: p as x, y, z; else m = -l..l)."""
    if l < 0:
        raise ValueError(f"l must be >= 0, got {l}")
    return (1, -1, 0) if l == 1 else tuple(range(-l, l + 1))


def _legendre_no_cs(l: int, m: int, x: np.ndarray) -> np.ndarray:
    """Associated Legendre ``P_l^m(x)`` (m >= 0) without the Condon-Shortley phase."""
    s = np.sqrt(np.clip(1.0 - x * x, 0.0, None))
    pmm = np.full_like(x, float(np.prod(np.arange(1, 2 * m, 2)))) * s**m
    if l == m:
        return pmm
    pm1 = x * (2 * m + 1) * pmm
    for ll in range(m + 2, l + 1):
        pmm, pm1 = pm1, ((2 * ll - 1) * x * pm1 - (ll + m - 1) * pmm) / (ll - m)
    return pm1


def real_spherical_harmonics(l: int, cos_theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Real harmonics of ``l`` at the given directions, shape ``(2l+1, npts)`` in :func:`real_m_order`."""
    x = np.atleast_1d(np.asarray(cos_theta, dtype=float))
    phi = np.atleast_1d(np.asarray(phi, dtype=float))
    rows = []
    for m in real_m_order(l):
        am = abs(m)
        norm = math.sqrt((2 * l + 1) / (4 * math.pi) * math.factorial(l - am) / math.factorial(l + am))
        p = norm * _legendre_no_cs(l, am, x)
        if m > 0:
            p = math.sqrt(2.0) * p * np.cos(am * phi)
        elif m < 0:
            p = math.sqrt(2.0) * p * np.sin(am * phi)
        rows.append(p * np.ones_like(phi))
    return np.array(rows)


@lru_cache(maxsize=256)
def _real_gaunt_cached(l1: int, l2: int, l3: int) -> np.ndarray:
    big = l1 + l2 + l3
    xs, ws = np.polynomial.legendre.leggauss(big // 2 + 2)  # exact: polynomial of degree <= big in cos
    n_phi = 2 * big + 2  # exact for trigonometric polynomials of degree <= big
    phis = 2 * math.pi * np.arange(n_phi) / n_phi
    ct = np.repeat(xs, n_phi)
    ph = np.tile(phis, len(xs))
    w = np.repeat(ws, n_phi) * (2 * math.pi / n_phi)
    y1, y2, y3 = (real_spherical_harmonics(ll, ct, ph) for ll in (l1, l2, l3))
    g = np.einsum("ap,bp,cp,p->abc", y1, y2, y3, w)
    g[np.abs(g) < 1e-14] = 0.0
    g.setflags(write=False)
    return g


def real_gaunt(l1: int, l2: int, l3: int) -> np.ndarray:
    """``G[a, b, c] = int Y_l1a Y_l2b Y_l3c dOmega`` over real harmonics (storage order), by exact
    Gauss-Legendre x uniform-phi quadrature."""
    if min(l1, l2, l3) < 0:
        raise ValueError(f"angular momenta must be >= 0, got {(l1, l2, l3)}")
    return _real_gaunt_cached(int(l1), int(l2), int(l3))


def _complex_to_real(l: int) -> np.ndarray:
    """``U[a, m + l]``: real harmonic a (storage order) as a combination of complex Y_l^m (CS phase)."""
    u = np.zeros((2 * l + 1, 2 * l + 1), dtype=complex)
    for a, m in enumerate(real_m_order(l)):
        am = abs(m)
        if m == 0:
            u[a, l] = 1.0
        elif m > 0:
            u[a, l + am] = (-1) ** am / math.sqrt(2.0)
            u[a, l - am] = 1 / math.sqrt(2.0)
        else:
            u[a, l + am] = (-1) ** am / (1j * math.sqrt(2.0))
            u[a, l - am] = -1 / (1j * math.sqrt(2.0))
    return u


def real_gaunt_sympy(l1: int, l2: int, l3: int) -> np.ndarray:
    """The same coefficients from sympy's complex Gaunt coefficients and the complex -> real unitary
    (independent cross-check of :func:`real_gaunt`)."""
    from sympy.physics.wigner import gaunt

    gc = np.zeros((2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1))
    for m1 in range(-l1, l1 + 1):
        for m2 in range(-l2, l2 + 1):
            m3 = -m1 - m2
            if abs(m3) <= l3:
                gc[m1 + l1, m2 + l2, m3 + l3] = float(gaunt(l1, l2, l3, m1, m2, m3))
    u1, u2, u3 = _complex_to_real(l1), _complex_to_real(l2), _complex_to_real(l3)
    g = np.einsum("ai,bj,ck,ijk->abc", u1, u2, u3, gc)
    if np.max(np.abs(g.imag), initial=0.0) > 1e-12:
        raise ArithmeticError("complex -> real Gaunt transform left an imaginary part")
    return g.real


# ---------------------------------------------------------------------------------------------
# radial Slater integrals (Y^k potentials)


def yk_potential(k: int, rho: np.ndarray, grid: RadialGrid) -> np.ndarray:
    """``y_k(r) = int rho(s) r<^k / r>^(k+1) ds`` on the grid (last axis), for a pair density
    ``rho = P_c P_d``; ``y_0`` of a charge density is its Hartree potential."""
    r = grid.r
    rho = np.asarray(rho, dtype=float)
    rk = r**k
    with np.errstate(divide="ignore", invalid="ignore"):
        outer_f = np.where(r > 0, rho / r ** (k + 1), 0.0)
        inner = grid.cumulative(rho * rk)
        outward = np.where(r > 0, inner / r ** (k + 1), 0.0)
    outer_f[..., 0] = 2 * outer_f[..., 1] - outer_f[..., 2]  # the finite limit at s = 0
    tail = grid.cumulative(outer_f)
    inward = rk * (tail[..., -1:] - tail)
    y = outward + inward
    y[..., 0] = 2 * y[..., 1] - y[..., 2]
    return y


def slater_integral(
    k: int, p_a: np.ndarray, p_b: np.ndarray, p_c: np.ndarray, p_d: np.ndarray, grid: RadialGrid
) -> float:
    """``R^k(a, b; c, d) = int int P_a P_b (r1) r<^k/r>^(k+1) P_c P_d (r2)``; the Y^k potential is
    built from (c, d), so put a localised (bound) pair there and the continuum in (a, b)."""
    return float(grid.integrate(p_a * p_b * yk_potential(k, p_c * p_d, grid)))


def one_centre_eri(
    shells_a: Sequence[tuple[int, np.ndarray]],
    shells_b: Sequence[tuple[int, np.ndarray]],
    shells_c: Sequence[tuple[int, np.ndarray]],
    shells_d: Sequence[tuple[int, np.ndarray]],
    grid: RadialGrid,
) -> np.ndarray:
    """``<ab|cd> = int int a(1) b(2) r12^-1 c(1) d(2)`` over one-centre functions ``P(r)/r Y_lm``.

    Each argument lists shells ``(l, P on grid)``; a shell gives 2l+1 functions in
    :func:`real_m_order`. Returns ``[A, B, C, D]`` (physicists' order; pyscf's int2e ``(ac|bd)``).
    """
    def offsets(shells):
        off = np.cumsum([0] + [2 * l + 1 for l, _ in shells])
        return off[:-1], int(off[-1])

    (oa, na), (ob, nb), (oc, nc), (od, nd) = (offsets(s) for s in (shells_a, shells_b, shells_c, shells_d))
    out = np.zeros((na, nb, nc, nd))
    yk_cache: dict[tuple[int, int, int], np.ndarray] = {}
    for ia, (la, pa) in enumerate(shells_a):
        for ic, (lc, pc) in enumerate(shells_c):
            rho1 = pa * pc
            for ib, (lb, pb) in enumerate(shells_b):
                for id_, (ld, pd) in enumerate(shells_d):
                    k_lo = max(abs(la - lc), abs(lb - ld))
                    k_hi = min(la + lc, lb + ld)
                    block = np.zeros((2 * la + 1, 2 * lb + 1, 2 * lc + 1, 2 * ld + 1))
                    for k in range(k_lo, k_hi + 1):
                        if (la + lc + k) % 2 or (lb + ld + k) % 2:
                            continue
                        key = (ib, id_, k)
                        if key not in yk_cache:
                            yk_cache[key] = yk_potential(k, pb * pd, grid)
                        rk = float(grid.integrate(rho1 * yk_cache[key]))
                        g1 = real_gaunt(la, lc, k)
                        g2 = real_gaunt(lb, ld, k)
                        block += (4 * math.pi / (2 * k + 1)) * rk * np.einsum("acq,bdq->abcd", g1, g2)
                    out[
                        oa[ia] : oa[ia] + 2 * la + 1,
                        ob[ib] : ob[ib] + 2 * lb + 1,
                        oc[ic] : oc[ic] + 2 * lc + 1,
                        od[id_] : od[id_] + 2 * ld + 1,
                    ] = block
    return out


# ---------------------------------------------------------------------------------------------
# continuum functions


@lru_cache(maxsize=65536)
def _coulomb_fg(l: int, eta: float, rho: float) -> tuple[float, float]:
    import mpmath

    return float(mpmath.coulombf(l, eta, rho)), float(mpmath.coulombg(l, eta, rho))


def coulomb_wave(
    energy: float, l: int, z_ion: float, r: np.ndarray, irregular: bool = False
) -> np.ndarray:
    """Energy-normalised Coulomb function ``sqrt(2/(pi k)) F_l(eta, k r)`` (``G_l`` if ``irregular``)
    for an electron of kinetic energy ``energy`` (Hartree) about charge ``z_ion`` (``eta = -z_ion/k``),
    from mpmath (about 1 ms a point; cached)."""
    if not energy > 0:
        raise ValueError(f"kinetic energy must be positive, got {energy}")
    k = math.sqrt(2.0 * energy)
    eta = -float(z_ion) / k
    r = np.atleast_1d(np.asarray(r, dtype=float))
    vals = np.array([_coulomb_fg(int(l), eta, float(k * ri))[1 if irregular else 0] for ri in r])
    return math.sqrt(2.0 / (math.pi * k)) * vals


@dataclass(frozen=True)
class ContinuumWave:
    """An energy-normalised radial continuum function ``P_El`` on ``grid`` and its phase shift
    relative to the Coulomb wave of the asymptotic charge."""

    energy: float
    l: int
    grid: RadialGrid
    p: np.ndarray = field(repr=False)
    phase_shift: float


def continuum_wave(
    energy: float,
    l: int,
    potential: np.ndarray,
    z_nucleus: float,
    z_asymptotic: float,
    grid: RadialGrid,
) -> ContinuumWave:
    """Solve ``P'' = (2 (V - E) + l(l+1)/r^2) P`` outward with Numerov (on the x grid, ``P = sqrt(r') y``)
    and normalise by matching to the Coulomb waves of ``z_asymptotic`` near ``grid.r_max``.

    ``potential`` is V(r) on ``grid`` (Hartree; value at r = 0 unused), ``-z_nucleus/r`` at the nucleus
    and ``-z_asymptotic/r`` near ``r_max`` (the matching assumes it; the caller checks).
    """
    if not energy > 0:
        raise ValueError(f"kinetic energy must be positive, got {energy}")
    if l < 0:
        raise ValueError(f"l must be >= 0, got {l}")
    r, rp, h, n = grid.r, grid.dr, grid.step, grid.n
    v = np.asarray(potential, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = rp**2 * (2.0 * (energy - v) - l * (l + 1) / r**2) - 0.25
    a = 1.0 + h * h * f / 12.0
    b = 2.0 - 10.0 * h * h * f / 12.0
    # regular series P = r^(l+1) (1 + a1 r + a2 r^2) for the first points
    v0 = v[1] + z_nucleus / r[1]
    a1 = -z_nucleus / (l + 1)
    a2 = (2 * z_nucleus**2 / (l + 1) - 2 * (energy - v0)) / (4 * l + 6)
    n_start = 3
    y = np.zeros(n)
    rs = r[1:n_start]
    y[1:n_start] = rs ** (l + 1) * (1 + a1 * rs + a2 * rs * rs) / np.sqrt(rp[1:n_start])
    al, bl, yl = a.tolist(), b.tolist(), y.tolist()
    for i in range(n_start - 1, n - 1):
        yl[i + 1] = (bl[i] * yl[i] - al[i - 1] * yl[i - 1]) / al[i + 1]
    p = np.asarray(yl) * np.sqrt(rp)
    # match P = alpha F + beta G at r_max and about a quarter wavelength inside
    k = math.sqrt(2.0 * energy)
    i2 = n - 1
    i1 = int(np.searchsorted(r, r[i2] - 0.5 * math.pi / k))
    pts = np.array([r[i1], r[i2]])
    fc = coulomb_wave(energy, l, z_asymptotic, pts)
    gc = coulomb_wave(energy, l, z_asymptotic, pts, irregular=True)
    alpha, beta = np.linalg.solve(np.column_stack([fc, gc]), np.array([p[i1], p[i2]]))
    amp = math.hypot(alpha, beta)
    sign = 1.0 if alpha >= 0 else -1.0  # keep F-like sign: P -> +F_l for a weak short-range potential
    p = sign * p / amp
    return ContinuumWave(energy, l, grid, p, float(math.atan2(sign * beta, sign * alpha)))


def hartree_potential(
    basis: BoundBasis, occupations: dict[str, float], grid: RadialGrid
) -> np.ndarray:
    """Spherical Hartree potential ``sum_i n_i int P_i^2(s) / r> ds`` of the occupied shells
    (orthonormalised radial functions, see :func:`_orthonormal_radials`)."""
    unknown = set(occupations) - {sh.label for sh in basis.shells}
    if unknown:
        raise ValueError(f"occupations name shells not in the basis: {sorted(unknown)}")
    radials = _orthonormal_radials(basis, grid)
    rho = sum(float(n) * radials[lab] ** 2 for lab, n in occupations.items())
    if isinstance(rho, float):
        return np.zeros(grid.n)
    return yk_potential(0, rho, grid)


# ---------------------------------------------------------------------------------------------
# providers


@runtime_checkable
class OneCentreIntegrals(Protocol):
    """What :mod:`chemistry.auger` needs: AO labels of the emitter's minimal basis and
    ``V[l, m, k, mu, nu]`` (layout in the module docstring) at a kinetic energy in Hartree."""

    ao_labels: Sequence[str]

    def __call__(self, kinetic_energy_hartree: float) -> np.ndarray: ...


POTENTIALS = ("screened", "coulomb")


class AtomicAugerIntegrals:
    """One-centre integrals from the emitter's basis (pyscf) and a numerical continuum.

    ``potential="screened"``: ``V(r) = -Z/r + V_H(r)``, V_H from ``occupations`` (default: the neutral
    configuration less ``z_ion`` outermost electrons, e.g. O -> 1s2 2s2 2p2, so ``V -> -z_ion/r``);
    ``potential="coulomb"``: ``V = -z_ion/r`` (the continuum is the Coulomb function; it is integrated
    with the same Numerov code, which reproduces mpmath's ``coulombf`` to ~1e-7). The grid is refined
    per energy so that the continuum advances at most ``phase_step`` rad per step (Numerov error ~ step^4).
    Results are cached per energy.
    """

    def __init__(
        self,
        element: str = "O",
        basis: str = "sto-3g",
        potential: str = "screened",
        z_ion: int = 2,
        lmax: int = 2,
        grid: RadialGrid | None = None,
        occupations: dict[str, float] | None = None,
        phase_step: float = 0.05,
    ) -> None:
        if potential not in POTENTIALS:
            raise ValueError(f"unknown potential {potential!r}; choose one of {', '.join(POTENTIALS)}")
        if not isinstance(lmax, int) or lmax < 0:
            raise ValueError(f"lmax must be a non-negative integer, got {lmax!r}")
        self.basis = bound_basis(element, basis)
        if not 0 <= z_ion <= self.basis.charge:
            raise ValueError(f"z_ion must be in 0..{self.basis.charge} for {self.basis.element}, got {z_ion}")
        self.potential = potential
        self.z_ion = z_ion
        self.lmax = lmax
        self.grid = grid if grid is not None else RadialGrid()
        if not phase_step > 0:
            raise ValueError(f"phase_step must be positive, got {phase_step}")
        self.phase_step = float(phase_step)
        if occupations is None:
            occupations = default_occupations(self.basis, z_ion) if potential == "screened" else {}
        n_el = sum(occupations.values())
        if potential == "screened" and abs(self.basis.charge - n_el - z_ion) > 1e-9:
            raise ValueError(
                f"occupations hold {n_el} electrons but Z - z_ion = {self.basis.charge - z_ion}: "
                "the screened potential must tend to -z_ion/r"
            )
        self.occupations = dict(occupations)
        self._cache: dict[float, np.ndarray] = {}
        self._check_range()

    @property
    def ao_labels(self) -> list[str]:
        return list(self.basis.ao_labels)

    @property
    def element(self) -> str:
        return self.basis.element

    def _check_range(self) -> None:
        """The continuum is matched to Coulomb waves near r_max: the bound functions must be gone there."""
        r = np.array([0.75 * self.grid.r_max, self.grid.r_max])
        tail = max(float(np.max(np.abs(sh.radial(r)))) for sh in self.basis.shells)
        if tail > 1e-7:
            raise ValueError(
                f"grid r_max = {self.grid.r_max} bohr is too small for {self.basis.basis!r} "
                f"(|P| = {tail:.1e} at 0.75 r_max)"
            )

    def radial_potential(self, grid: RadialGrid) -> tuple[np.ndarray, float]:
        """V(r) on ``grid`` and the nuclear charge the continuum sees at r -> 0."""
        with np.errstate(divide="ignore"):
            if self.potential == "coulomb":
                return -self.z_ion / grid.r, float(self.z_ion)
            z = float(self.basis.charge)
            return -z / grid.r + hartree_potential(self.basis, self.occupations, grid), z

    def continuum(self, kinetic_energy_hartree: float) -> list[ContinuumWave]:
        """The continuum radial functions ``P_El``, l = 0..lmax, on the energy's grid."""
        e = _check_energy(kinetic_energy_hartree)
        grid = self.grid.for_wavenumber(math.sqrt(2 * e), self.phase_step)
        v, z = self.radial_potential(grid)
        return [continuum_wave(e, l, v, z, self.z_ion, grid) for l in range(self.lmax + 1)]

    def __call__(self, kinetic_energy_hartree: float) -> np.ndarray:
        e = _check_energy(kinetic_energy_hartree)
        if e not in self._cache:
            waves = self.continuum(e)
            grid = waves[0].grid
            bound = [(sh.l, sh.radial(grid.r)) for sh in self.basis.shells]
            cont = [(w.l, w.p) for w in waves]
            flat = one_centre_eri(cont, bound, bound, bound, grid)
            n = self.basis.n_ao
            out = np.zeros((self.lmax + 1, 2 * self.lmax + 1, n, n, n))
            off = 0
            for l in range(self.lmax + 1):
                out[l, : 2 * l + 1] = flat[off : off + 2 * l + 1]
                off += 2 * l + 1
            self._cache[e] = out
        return self._cache[e].copy()

    def at_ev(self, kinetic_energy_ev: float) -> np.ndarray:
        """``self(E / Hartree)``: the integrals at a kinetic energy in eV."""
        return self(kinetic_energy_ev / HARTREE_EV)


def _check_energy(energy: float) -> float:
    e = float(energy)
    if not (math.isfinite(e) and e > 0):
        raise ValueError(f"kinetic energy must be positive and finite (Hartree), got {energy!r}")
    return e


# ---------------------------------------------------------------------------------------------
# tables


@dataclass
class TabulatedAugerIntegrals:
    """Integrals read from a :func:`table` file; calls interpolate linearly in energy inside the
    tabulated range (a ValueError outside it)."""

    ao_labels: list[str]
    energies_ev: np.ndarray
    values: np.ndarray  # (n_energies, L, M, n_ao, n_ao, n_ao)
    metadata: dict = field(default_factory=dict)

    def __call__(self, kinetic_energy_hartree: float) -> np.ndarray:
        e_ev = _check_energy(kinetic_energy_hartree) * HARTREE_EV
        es = self.energies_ev
        tol = 1e-9 * max(1.0, abs(e_ev))
        if e_ev < es[0] - tol or e_ev > es[-1] + tol:
            raise ValueError(f"{e_ev:.3f} eV is outside the table's range {es[0]}..{es[-1]} eV")
        if len(es) == 1:
            return self.values[0].copy()
        j = int(np.clip(np.searchsorted(es, e_ev) - 1, 0, len(es) - 2))
        t = float(np.clip((e_ev - es[j]) / (es[j + 1] - es[j]), 0.0, 1.0))
        return (1 - t) * self.values[j] + t * self.values[j + 1]


def table(
    path: str | Path,
    energies_ev: Sequence[float] = (480.0, 490.0, 500.0, 510.0),
    provider: AtomicAugerIntegrals | None = None,
    **provider_kwargs,
) -> Path:
    """Write the integrals of ``provider`` (default ``AtomicAugerIntegrals(**provider_kwargs)``, i.e.
    O/STO-3G, screened) at ``energies_ev`` to a JSON file at ``path``; returns the path."""
    prov = provider if provider is not None else AtomicAugerIntegrals(**provider_kwargs)
    energies = sorted(float(e) for e in energies_ev)
    if not energies:
        raise ValueError("energies_ev is empty")
    values = [prov.at_ev(e) for e in energies]
    doc = {
        "format": TABLE_FORMAT,
        "definition": "V[l][m][k][mu][nu] = <eps_lm k|mu nu> = int int eps_lm(1) mu(1) r12^-1 k(2) nu(2); "
        "atomic units, energy-normalised continuum; m in pyscf real-harmonic order (l=1: x,y,z; "
        "else m=-l..l), zero padded to 2*lmax+1",
        "element": prov.element,
        "basis": prov.basis.basis,
        "potential": prov.potential,
        "z_ion": prov.z_ion,
        "lmax": prov.lmax,
        "occupations": prov.occupations,
        "ao_labels": prov.ao_labels,
        "shape": list(values[0].shape),
        "energies_ev": energies,
        "values": [v.tolist() for v in values],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def load_table(path: str | Path) -> TabulatedAugerIntegrals:
    """Read a :func:`table` file back as a provider."""
    doc = json.loads(Path(path).read_text())
    if doc.get("format") != TABLE_FORMAT:
        raise ValueError(f"{path} is not a {TABLE_FORMAT} table (format {doc.get('format')!r})")
    values = np.asarray(doc["values"], dtype=float)
    energies = np.asarray(doc["energies_ev"], dtype=float)
    expected = (len(energies), *doc["shape"])
    if values.shape != expected:
        raise ValueError(f"{path}: values have shape {values.shape}, expected {expected}")
    meta = {k: v for k, v in doc.items() if k not in ("values", "energies_ev", "ao_labels")}
    return TabulatedAugerIntegrals(list(doc["ao_labels"]), energies, values, meta)

