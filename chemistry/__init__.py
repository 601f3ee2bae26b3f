"""Chemistry workflows: pyscf molecules -> qubit Hamiltonians -> VQE / GQE ground states ->
q-sc-EOM ionised states -> Auger spectra (one-centre approximation).

pyscf (and transformers, for GQE) are imported only when needed, so ``import chemistry`` works
without them; the functions that need them raise an ImportError naming the package.

The public names load on first use (PEP 562): ``import chemistry`` (or ``chemistry.cli`` for
``ketml chem --help``) imports neither pyscf nor torch until a name is used.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "AugerSpectrum": "auger",
    "auger_spectrum": "auger",
    "CoreHoleState": "eom",
    "EOMResult": "eom",
    "Manifold": "eom",
    "core_hole_state": "eom",
    "dip_manifold": "eom",
    "exact_ionised_states": "eom",
    "ip_manifold": "eom",
    "q_sc_eom": "eom",
    "exact_eigenstates": "exact",
    "exact_ground_state": "exact",
    "excitation_generator": "excitations",
    "excitation_pauli_terms": "excitations",
    "uccsd_excitations": "excitations",
    "uccsd_pauli_pool": "excitations",
    "annihilate": "fermion_ops",
    "create": "fermion_ops",
    "determinants": "fermion_ops",
    "sector_matrix": "fermion_ops",
    "transition_rdm": "fermion_ops",
    "gate_counts": "circuit_cost",
    "GQEConfig": "gqe",
    "GQEResult": "gqe",
    "OperatorPool": "gqe",
    "excitation_pool": "gqe",
    "pauli_pool": "gqe",
    "run_gqe": "gqe",
    "uccsd_string_pool": "gqe",
    "fermionic_number_operator": "mapping",
    "hf_bitstring": "mapping",
    "number_operator": "mapping",
    "qubit_hamiltonian": "mapping",
    "spin_z_operator": "mapping",
    "BOND_LENGTHS": "molecules",
    "GEOMETRIES": "molecules",
    "Molecule": "molecules",
    "molecule": "molecules",
    "PauliSequence": "pauli_evolution",
    "run_uccsd": "ucc",
    "VQEResult": "vqe",
    "adapt_vqe": "vqe",
    "hardware_efficient_circuit": "vqe",
    "run_vqe": "vqe",
    "uccsd_circuit": "vqe",
    "GroundState": "workflow",
    "ground_state": "workflow",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'chemistry' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
