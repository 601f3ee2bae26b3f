"""Angular algebra of the one-centre integrals: real spherical harmonics (pyscf's m order, no
Condon-Shortley phase) and real Gaunt coefficients."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from circuits.errors import ChemistryError


def real_m_order(l: int) -> tuple[int, ...]:
    """Storage order of the real harmonics of ``l`` (pyscf's: p as x, y, z; else m = -l..l)."""
    if l < 0:
        raise ChemistryError(f"l must be >= 0, got {l}")
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
        raise ChemistryError(f"angular momenta must be >= 0, got {(l1, l2, l3)}")
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
