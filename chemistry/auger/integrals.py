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

import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from chemistry.auger.angular import real_gaunt
from chemistry.auger.basis import bound_basis, default_occupations
from chemistry.auger.continuum import ContinuumWave, continuum_wave, hartree_potential
from chemistry.auger.radial import HARTREE_EV, RadialGrid, yk_potential
from circuits.errors import ChemistryError


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
            raise ChemistryError(f"unknown potential {potential!r}; choose one of {', '.join(POTENTIALS)}")
        if not isinstance(lmax, int) or lmax < 0:
            raise ChemistryError(f"lmax must be a non-negative integer, got {lmax!r}")
        self.basis = bound_basis(element, basis)
        if not 0 <= z_ion <= self.basis.charge:
            raise ChemistryError(
                f"z_ion must be in 0..{self.basis.charge} for {self.basis.element}, got {z_ion}"
            )
        self.potential = potential
        self.z_ion = z_ion
        self.lmax = lmax
        self.grid = grid if grid is not None else RadialGrid()
        if not phase_step > 0:
            raise ChemistryError(f"phase_step must be positive, got {phase_step}")
        self.phase_step = float(phase_step)
        if occupations is None:
            occupations = default_occupations(self.basis, z_ion) if potential == "screened" else {}
        n_el = sum(occupations.values())
        if potential == "screened" and abs(self.basis.charge - n_el - z_ion) > 1e-9:
            raise ChemistryError(
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
            raise ChemistryError(
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
        raise ChemistryError(f"kinetic energy must be positive and finite (Hartree), got {energy!r}")
    return e
