"""Auger spectra in the one-centre approximation (OCA) from ionised states.

Rate of decay from the core-hole state I to the dication state K (atomic units, energy-normalised
continuum):

    Gamma_K = 2 pi sum_{l, m, sigma} | sum_{p, q} <eps_lm c | p q> gamma^{KI}_{pq} |^2,
    gamma^{KI}_{pq} = <K| a_c^dagger a_q a_p |I>   (spin orbitals; p carries the continuum spin sigma),

with the molecular integrals taken on the emitter atom only: every active MO is projected onto the
emitter's minimal basis, ``D = T^-1 U C`` (``T`` minimal-basis overlap, ``U`` minimal-basis/full-basis
overlap, ``C`` MO coefficients), and ``<eps_lm c|p q> = sum D_kc D_mp D_nq <eps_lm k|m n>`` with the
atomic integrals of :mod:`chemistry.auger.integrals`. Kinetic energies are ``E(I) - E(K)``.
"""

from __future__ import annotations

import numpy as np

from circuits.errors import ChemistryError


def emitter_atom(mol) -> int:
    """Index of the heaviest atom: the default Auger emitter (O in water)."""
    charges = mol.atom_charges()
    return int(np.argmax(charges))


def emitter_projection(
    molecule, atom: int | None = None, basis: str = "sto-3g"
) -> tuple[np.ndarray, list[str]]:
    """``D = T^-1 U C``: the active MOs' coefficients on the emitter atom's minimal basis.

    Returns ``D`` of shape ``(n_minimal_ao, n_active_orbitals)`` and the minimal-basis AO labels.
    """
    from pyscf import gto

    mol = molecule.mol
    atom = emitter_atom(mol) if atom is None else int(atom)
    if not 0 <= atom < mol.natm:
        raise ChemistryError(f"emitter atom {atom} is not in the molecule (atoms 0..{mol.natm - 1})")
    symbol = mol.atom_pure_symbol(atom)
    coords = mol.atom_coord(atom, unit="Bohr")
    minimal = gto.M(atom=[(symbol, coords)], unit="Bohr", basis=basis, spin=None, verbose=0)
    t = minimal.intor("int1e_ovlp")
    u = gto.intor_cross("int1e_ovlp", minimal, mol)
    c = molecule.mo_coeff[:, molecule.active_orbitals]
    return np.linalg.solve(t, u @ c), minimal.ao_labels()


def molecular_integrals(atomic: np.ndarray, projection: np.ndarray, core: int) -> np.ndarray:
    """``W[l, m, p, q] = <eps_lm c | p q>`` over active spatial MOs from atomic ``V[l, m, k, mu, nu]``
    (electron 1: ``mu -> eps``, electron 2: ``nu -> k``; the core MO ``c`` fills ``k``)."""
    if atomic.ndim != 5 or atomic.shape[2:] != (projection.shape[0],) * 3:
        raise ChemistryError(
            f"atomic integrals must be (L, M, n_ao, n_ao, n_ao) with n_ao = {projection.shape[0]}, "
            f"got {atomic.shape}"
        )
    d_core = projection[:, core]
    return np.einsum("k,mp,nq,lxkmn->lxpq", d_core, projection, projection, atomic, optimize=True)


def rates(molecular: np.ndarray, gammas: np.ndarray, core_spin: int) -> np.ndarray:
    """``Gamma_K = 2 pi sum_{l,m,sigma} |A_K,lm,sigma|^2`` from ``W[l, m, p, q]`` (spatial) and the
    transition RDMs ``gamma[K, p, q]`` over spin orbitals (spin orbital ``2 r + s``)."""
    n_spatial = molecular.shape[-1]
    if gammas.ndim != 3 or gammas.shape[1:] != (2 * n_spatial, 2 * n_spatial):
        raise ChemistryError(
            f"transition RDMs must be (K, {2 * n_spatial}, {2 * n_spatial}), got {gammas.shape}"
        )
    g = gammas.reshape(len(gammas), n_spatial, 2, n_spatial, 2)
    total = np.zeros(len(gammas))
    for sigma in (0, 1):  # spin of the continuum electron = spin of p; q has the core's spin
        amp = np.einsum("lxpq,kpq->klx", molecular, g[:, :, sigma, :, core_spin])
        total += np.sum(np.abs(amp) ** 2, axis=(1, 2))
    return 2 * np.pi * total
