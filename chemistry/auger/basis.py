"""The emitter atom's bound radial functions: its contracted minimal-basis shells from pyscf, the
ion's shell occupations and orthonormalised radials for a density."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from chemistry.auger.radial import RadialGrid
from circuits.errors import ChemistryError


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
        raise ChemistryError(f"unknown element {element!r}")
    z = int(elements.charge(element))
    symbol = elements.ELEMENTS[z]
    try:
        with warnings.catch_warnings():  # pyscf suggests basis-set-exchange for unknown names
            warnings.simplefilter("ignore", UserWarning)
            return gto.M(atom=f"{symbol} 0 0 0", basis=basis, spin=z % 2, verbose=0)
    except Exception as err:  # pyscf raises several types (BasisNotFoundError, KeyError, ...)
        raise ChemistryError(f"unknown basis {basis!r} for element {symbol}: {err}") from err


@lru_cache(maxsize=16)
def bound_basis(element: str = "O", basis: str = "sto-3g") -> BoundBasis:
    """Contracted radial functions of ``element`` in ``basis`` from pyscf, in pyscf's AO order."""
    from pyscf import gto

    mol = _atom_mol(element, basis)
    if mol.cart:
        raise ChemistryError(f"basis {basis!r} builds cartesian functions; only spherical AOs are supported")
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
        raise ChemistryError(f"AO count mismatch for {element}/{basis}: {len(ao_shell)} vs pyscf {mol.nao}")
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
        raise ChemistryError(f"z_ion must be in 0..{basis.charge} for {basis.element}, got {z_ion}")
    config = list(elements.CONFIGURATION[basis.charge])
    occ: dict[str, float] = {}
    for sh in basis.shells:
        take = min(config[sh.l], 2 * (2 * sh.l + 1)) if sh.l < len(config) else 0
        occ[sh.label] = float(take)
        if sh.l < len(config):
            config[sh.l] -= take
    if any(c > 0 for c in config):
        raise ChemistryError(
            f"basis {basis.basis!r} has too few shells for the configuration of {basis.element}"
        )
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
