"""Energy-normalised continuum waves: Coulomb functions (mpmath), Numerov solutions in a screened
ionic potential matched to them, and the spherical Hartree potential of the ion."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from chemistry.auger.basis import BoundBasis, _orthonormal_radials
from chemistry.auger.radial import RadialGrid, yk_potential
from circuits.errors import ChemistryError


@lru_cache(maxsize=65536)
def _coulomb_fg(l: int, eta: float, rho: float) -> tuple[float, float]:
    import mpmath

    return float(mpmath.coulombf(l, eta, rho)), float(mpmath.coulombg(l, eta, rho))


def coulomb_wave(energy: float, l: int, z_ion: float, r: np.ndarray, irregular: bool = False) -> np.ndarray:
    """Energy-normalised Coulomb function ``sqrt(2/(pi k)) F_l(eta, k r)`` (``G_l`` if ``irregular``)
    for an electron of kinetic energy ``energy`` (Hartree) about charge ``z_ion`` (``eta = -z_ion/k``),
    from mpmath (about 1 ms a point; cached)."""
    if not energy > 0:
        raise ChemistryError(f"kinetic energy must be positive, got {energy}")
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
        raise ChemistryError(f"kinetic energy must be positive, got {energy}")
    if l < 0:
        raise ChemistryError(f"l must be >= 0, got {l}")
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


def hartree_potential(basis: BoundBasis, occupations: dict[str, float], grid: RadialGrid) -> np.ndarray:
    """Spherical Hartree potential ``sum_i n_i int P_i^2(s) / r> ds`` of the occupied shells
    (orthonormalised radial functions, see :func:`_orthonormal_radials`)."""
    unknown = set(occupations) - {sh.label for sh in basis.shells}
    if unknown:
        raise ChemistryError(f"occupations name shells not in the basis: {sorted(unknown)}")
    radials = _orthonormal_radials(basis, grid)
    rho = sum(float(n) * radials[lab] ** 2 for lab, n in occupations.items())
    if isinstance(rho, float):
        return np.zeros(grid.n)
    return yk_potential(0, rho, grid)
