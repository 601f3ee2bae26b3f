"""Auger integral tables: write a provider's integrals at a few energies to JSON and read them back
as a provider that interpolates in energy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chemistry.auger.integrals import AtomicAugerIntegrals, _check_energy
from chemistry.auger.radial import HARTREE_EV
from circuits.errors import ChemistryError

TABLE_FORMAT = "ketml-oca-auger-integrals/1"


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
            raise ChemistryError(f"{e_ev:.3f} eV is outside the table's range {es[0]}..{es[-1]} eV")
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
        raise ChemistryError("energies_ev is empty")
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
        raise ChemistryError(f"{path} is not a {TABLE_FORMAT} table (format {doc.get('format')!r})")
    values = np.asarray(doc["values"], dtype=float)
    energies = np.asarray(doc["energies_ev"], dtype=float)
    expected = (len(energies), *doc["shape"])
    if values.shape != expected:
        raise ChemistryError(f"{path}: values have shape {values.shape}, expected {expected}")
    meta = {k: v for k, v in doc.items() if k not in ("values", "energies_ev", "ao_labels")}
    return TabulatedAugerIntegrals(list(doc["ao_labels"]), energies, values, meta)
