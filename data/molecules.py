"""The named molecules ``chemistry`` knows, as catalogue entries (names only).

Their geometries and Hamiltonians live in ``chemistry.molecules`` (``GEOMETRIES``); ``data``
never imports ``chemistry``, so the names are listed here and a test checks that both agree.
"""

from __future__ import annotations

from .registry import Dataset, register

__all__ = ["MOLECULES"]

#: name -> what it is (equilibrium geometry from experimental bond lengths)
MOLECULES = {
    "H2": "hydrogen, H-H 0.7414 A",
    "LiH": "lithium hydride, Li-H 1.5949 A",
    "BeH2": "beryllium hydride, linear, Be-H 1.3264 A",
    "N2": "nitrogen, N-N 1.0977 A",
    "H2O": "water, O-H 0.9584 A, H-O-H 104.45 degrees",
}

for _name, _about in MOLECULES.items():
    register(
        Dataset(
            _name,
            "molecules",
            f"{_about}: qubit Hamiltonian, Hartree-Fock state and pyscf reference energies",
            "chemistry:molecule",
            requires=("pyscf",),
            source="experimental equilibrium geometries (chemistry.molecules.GEOMETRIES)",
            licence="geometry facts; computed with pyscf (Apache-2.0)",
            size="one geometry",
            how_to_get="pip install 'ketml[chem]'; built by chemistry.molecule(name)",
        )
    )
