"""Chemistry workflows: pyscf molecules -> qubit Hamiltonians (and later VQE, GQE, q-sc-EOM, Auger).

pyscf is imported only when a molecule is built, so ``import chemistry`` works without it;
``chemistry.molecule`` then raises an ImportError that says ``pip install pyscf``.
"""

from chemistry.molecules import (
    BOND_LENGTHS,
    GEOMETRIES,
    Molecule,
    exact_eigenstates,
    exact_ground_state,
    fermionic_number_operator,
    hf_bitstring,
    molecule,
    number_operator,
    qubit_hamiltonian,
    spin_z_operator,
)

__all__ = [
    "BOND_LENGTHS",
    "GEOMETRIES",
    "Molecule",
    "exact_eigenstates",
    "exact_ground_state",
    "fermionic_number_operator",
    "hf_bitstring",
    "molecule",
    "number_operator",
    "qubit_hamiltonian",
    "spin_z_operator",
]
