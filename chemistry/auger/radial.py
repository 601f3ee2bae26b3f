"""The radial grid of the one-centre Auger integrals and Slater radial integrals (Y^k potentials)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.integrate import cumulative_simpson, simpson

from circuits.errors import ChemistryError

HARTREE_EV = 27.211386245988


@dataclass(frozen=True)
class RadialGrid:
    """Log-linear grid ``r = r0 (exp(x) - 1)``, x uniform: fine at the nucleus (spacing ``r0 h``),
    about ``(r + r0) h`` apart further out; integrals are Simpson rules in x."""

    r0: float = 0.05
    h: float = 0.002
    r_max: float = 20.0

    def __post_init__(self) -> None:
        if not (self.r0 > 0 and self.h > 0 and self.r_max > 0):
            raise ChemistryError(
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
