"""Auger spectra of a molecule: kinetic energies ``E(I) - E(K)`` and OCA rates for every dication
state K reached from the core-hole state I, by FCI or q-sc-EOM, each line labelled by its spatial
holes and spin (:mod:`chemistry.auger.labels`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chemistry.auger.labels import StateCharacter, state_characters
from chemistry.auger.projection import emitter_atom, emitter_projection, molecular_integrals, rates
from chemistry.auger.radial import HARTREE_EV
from circuits.errors import ChemistryError


@dataclass
class AugerSpectrum:
    """Auger lines: kinetic energies (eV), rates (atomic units) and what each final state is.

    ``labels[i]`` names line i's dication state by spatial holes and spin (``holes 2,4 S=0
    (singlet)``), ``characters[i]`` holds the same as data (:class:`StateCharacter`); both are
    invariant under spin flips and degenerate rotations. ``details[i]`` (``Sz=+0 2a 4b (0.44)``: S_z
    sector and largest determinant) is extra information that does depend on eigensolver rounding.
    """

    kinetic_energies: np.ndarray
    rates: np.ndarray
    final_energies: np.ndarray  # Hartree, total energies of the dication states
    core_hole_energy: float  # Hartree, total energy of the core-hole state
    ground_energy: float
    labels: list[str] = field(default_factory=list)
    method: str = ""
    characters: list[StateCharacter] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def select(self, holes: Sequence[int] | None = None, spin: float | None = None) -> np.ndarray:
        """Indices of the lines whose final state has these spatial ``holes`` (any order, a doubly
        emptied orbital twice, no particles) and/or spin ``S``."""
        want = None if holes is None else tuple(sorted(int(h) for h in holes))
        return np.array(
            [
                i
                for i, c in enumerate(self.characters)
                if (want is None or (c.holes == want and not c.particles))
                and (spin is None or c.spin == float(spin))
            ],
            dtype=int,
        )

    def relative(self) -> np.ndarray:
        """Rates divided by their sum."""
        total = float(np.sum(self.rates))
        return self.rates / total if total > 0 else self.rates

    def broadened(self, grid: np.ndarray | None = None, fwhm: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
        """Lorentzian-broadened spectrum (eV grid, intensity); each line keeps its rate as area."""
        if fwhm <= 0:
            raise ChemistryError(f"fwhm must be > 0 eV, got {fwhm}")
        if grid is None:
            lo, hi = float(np.min(self.kinetic_energies)), float(np.max(self.kinetic_energies))
            grid = np.linspace(lo - 5 * fwhm, hi + 5 * fwhm, 2000)
        half = fwhm / 2
        lines = (half / np.pi) / ((grid[:, None] - self.kinetic_energies[None, :]) ** 2 + half**2)
        return grid, lines @ self.rates

    def peaks(self, fwhm: float = 1.5, top: int = 5, min_relative: float = 0.02) -> list[tuple[float, float]]:
        """Maxima of the broadened spectrum: (kinetic energy eV, height relative to the highest)."""
        grid, y = self.broadened(fwhm=fwhm)
        idx = [i for i in range(1, len(y) - 1) if y[i] >= y[i - 1] and y[i] > y[i + 1]]
        idx = [i for i in idx if y[i] >= min_relative * y.max()]
        idx.sort(key=lambda i: -y[i])
        return [(float(grid[i]), float(y[i] / y.max())) for i in idx[:top]]

    def plot(self, path: str | Path | None = None, fwhm: float = 1.5, ax=None, label: str | None = None):
        """Broadened spectrum with stick lines; saved as PNG when ``path`` is given."""
        own = ax is None
        if own and path is not None:  # a file only: no pyplot, no global backend change
            from matplotlib.figure import Figure

            fig = Figure(figsize=(7, 4))
            ax = fig.subplots()
        elif own:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(7, 4))
        grid, y = self.broadened(fwhm=fwhm)
        scale = y.max() if y.max() > 0 else 1.0
        ax.plot(grid, y / scale, label=label or self.method or "spectrum")
        rel = self.relative()
        ax.vlines(self.kinetic_energies, 0, 0.3 * rel / max(float(rel.max()), 1e-300), alpha=0.4, lw=1)
        ax.set_xlabel("kinetic energy (eV)")
        ax.set_ylabel("intensity (normalised)")
        ax.legend()
        if own and path is not None:
            fig.tight_layout()
            fig.savefig(path, dpi=120)
        return ax


def spectrum_from_states(
    molecule,
    core_hole_state: np.ndarray,
    core_hole_energy: float,
    final_states: Sequence[np.ndarray],
    final_energies: Sequence[float],
    *,
    core_orbital: int = 0,
    core_spin: int = 0,
    integrals=None,
    integral_energy_ev: float | None = None,
    atom: int | None = None,
    labels: Sequence[str] | None = None,
    method: str = "",
    ground_energy: float = float("nan"),
) -> AugerSpectrum:
    """Rates and kinetic energies for one core-hole state and a set of final dication states.

    ``integrals`` is a one-centre provider (``__call__(kinetic_energy_hartree)`` returning
    ``V[l, m, k, mu, nu]``); default :class:`chemistry.auger.integrals.AtomicAugerIntegrals` for the
    emitter. They are evaluated once, at ``integral_energy_ev`` (default: the rate-free mean of the
    kinetic energies), since they vary slowly over the ~30 eV of a spectrum.
    """
    from chemistry.fermion_ops import transition_rdm

    final_states = np.asarray(final_states)
    final_energies = np.asarray(final_energies, dtype=float)
    if len(final_states) != len(final_energies):
        raise ChemistryError(f"{len(final_states)} final states but {len(final_energies)} energies")
    kinetic = (core_hole_energy - final_energies) * HARTREE_EV
    open_ = kinetic > 0  # final states above the core hole are closed channels (double core holes)
    final_states, final_energies, kinetic = final_states[open_], final_energies[open_], kinetic[open_]
    if labels is not None:
        labels = [lab for lab, keep in zip(labels, open_, strict=True) if keep]
    projection, ao_labels = emitter_projection(molecule, atom)
    if integrals is None:
        from chemistry.auger.integrals import AtomicAugerIntegrals

        symbol = molecule.mol.atom_pure_symbol(emitter_atom(molecule.mol) if atom is None else atom)
        integrals = AtomicAugerIntegrals(element=symbol)
    e_int = float(np.mean(kinetic)) if integral_energy_ev is None else float(integral_energy_ev)
    atomic = np.asarray(integrals(e_int / HARTREE_EV))
    w = molecular_integrals(atomic, projection, core_orbital)
    gam = transition_rdm(final_states, core_hole_state, 2 * core_orbital + core_spin)
    gam = np.asarray(gam)
    return AugerSpectrum(
        kinetic_energies=kinetic,
        rates=rates(w, gam, core_spin),
        final_energies=final_energies,
        core_hole_energy=float(core_hole_energy),
        ground_energy=float(ground_energy),
        labels=list(labels) if labels is not None else [],
        method=method,
    )


def _final_sectors(n_alpha: int, n_beta: int, core_spin: int) -> list[tuple[int, int]]:
    """(alpha, beta) electron counts of the dications the decay reaches: the core is refilled with
    its own spin, so one electron of the core's spin leaves and the other has either spin (the third
    sector, both electrons of the other spin, has zero rates)."""
    same = (n_alpha - 2, n_beta) if core_spin == 0 else (n_alpha, n_beta - 2)
    return [(a, b) for a, b in (same, (n_alpha - 1, n_beta - 1)) if a >= 0 and b >= 0]


METHODS = ("fci", "q-sc-eom")


def auger_spectrum(
    molecule,
    method: str = "fci",
    *,
    ground_state=None,
    core_orbital: int = 0,
    core_spin: int = 0,
    ip_manifold: str = "1h+2h1p",
    dip_manifold: str = "2h+3h1p",
    integrals=None,
    integral_energy_ev: float | None = None,
    atom: int | None = None,
    label: str | None = None,
) -> AugerSpectrum:
    """The Auger spectrum of ``molecule`` after ionising spatial orbital ``core_orbital``.

    ``method="fci"``: the classical reference, every ionised state by exact diagonalisation in its
    (N, S_z) sector and the core-hole state chosen by its overlap with ``a_core |Psi_FCI>``.
    ``method="q-sc-eom"``: ionised states from q-sc-EOM on top of ``ground_state`` (a
    ``PauliSequence`` U with ``|Psi0> = U|HF>``, e.g. a GQE or VQE circuit), with the IP and DIP
    manifolds named. Final states of all three S_z sectors of the dication are included (triplet
    components and singlets), so the rates are summed over the continuum electron's spin.
    """
    from chemistry import eom

    if method not in METHODS:
        raise ChemistryError(f"unknown Auger method {method!r}; choose one of {', '.join(METHODS)}")
    if molecule.mapping != "jordan_wigner":
        raise ChemistryError(f"Auger spectra need the Jordan-Wigner mapping, got {molecule.mapping!r}")
    if core_spin not in (0, 1):
        raise ChemistryError(f"core_spin must be 0 (alpha) or 1 (beta), got {core_spin!r}")
    if not 0 <= core_orbital < molecule.n_orbitals:
        raise ChemistryError(
            f"core orbital {core_orbital} is not in the active space ({molecule.n_orbitals} orbitals); "
            "the core hole must be active (use the full space or keep the 1s orbital active)"
        )
    if method == "q-sc-eom" and ground_state is None:
        raise ChemistryError(
            "method='q-sc-eom' needs ground_state (the PauliSequence U of a GQE/VQE circuit)"
        )
    h, n, hf = molecule.hamiltonian, molecule.n_qubits, molecule.hf_bitstring
    na, nb = molecule.n_alpha, molecule.n_beta
    core = 2 * core_orbital + core_spin
    if hf[n - 1 - core] != "1":
        raise ChemistryError(f"spin orbital {core} is empty in the Hartree-Fock state: nothing to ionise")
    ia, ib = (na - 1, nb) if core_spin == 0 else (na, nb - 1)
    if integrals is None:  # one provider for every sector (it caches per energy)
        from chemistry.auger.integrals import AtomicAugerIntegrals

        symbol = molecule.mol.atom_pure_symbol(emitter_atom(molecule.mol) if atom is None else atom)
        integrals = AtomicAugerIntegrals(element=symbol)
    if method == "fci":
        e0, psi0 = molecule.exact_ground_state()
        ip = eom.exact_ionised_states(h, n, ia, ib, hf_bitstring=hf)
        hole = eom.core_hole_state(ip, core, ground_state=psi0)
        ground = float(e0)
    else:
        ip = eom.q_sc_eom(h, hf, ground_state, eom.ip_manifold(hf, ip_manifold, spin_z=(ia - ib) / 2))
        hole = eom.core_hole_state(ip, core)
        ground = float(ip.reference_energy) if ip.reference_energy is not None else float("nan")
    energies, rates_, characters, details = [], [], [], []
    for fa, fb in _final_sectors(na, nb, core_spin):
        if method == "fci":
            final = eom.exact_ionised_states(h, n, fa, fb)
        else:
            manifold = eom.dip_manifold(hf, dip_manifold, spin_z=(fa - fb) / 2)
            final = eom.q_sc_eom(h, hf, ground_state, manifold)
        open_ = (hole.energy - final.energies) * HARTREE_EV > 0
        states, names = state_characters(final.states[open_], final.energies[open_], hf)
        if integral_energy_ev is None:  # one energy for all lines: the integrals vary slowly
            kin = (hole.energy - final.energies) * HARTREE_EV
            integral_energy_ev = float(np.median(kin[kin > 0])) if np.any(kin > 0) else 500.0
        part = spectrum_from_states(
            molecule,
            hole.state,
            hole.energy,
            states,
            final.energies[open_],
            core_orbital=core_orbital,
            core_spin=core_spin,
            integrals=integrals,
            integral_energy_ev=integral_energy_ev,
            atom=atom,
        )
        energies.append(part.final_energies)
        rates_.append(part.rates)
        characters += names
        details += [f"Sz={(fa - fb) / 2:+g} {c.determinant}" for c in names]
        del final, states
    final_e = np.concatenate(energies)
    return AugerSpectrum(
        kinetic_energies=(hole.energy - final_e) * HARTREE_EV,
        rates=np.concatenate(rates_),
        final_energies=final_e,
        core_hole_energy=float(hole.energy),
        ground_energy=ground,
        labels=[c.label for c in characters],
        method=label or method,
        characters=characters,
        details=details,
    )
