"""Chemistry workflows: pyscf molecules -> qubit Hamiltonians -> VQE / GQE ground states ->
q-sc-EOM ionised states -> Auger spectra (one-centre approximation).

pyscf (and transformers, for GQE) are imported only when needed, so ``import chemistry`` works
without them; the functions that need them raise an ImportError naming the package.
"""

from chemistry.auger import AugerSpectrum, auger_spectrum
from chemistry.eom import (
    CoreHoleState,
    EOMResult,
    Manifold,
    core_hole_state,
    dip_manifold,
    exact_ionised_states,
    ip_manifold,
    q_sc_eom,
)
from chemistry.exact import exact_eigenstates, exact_ground_state
from chemistry.excitations import (
    excitation_generator,
    excitation_pauli_terms,
    uccsd_excitations,
    uccsd_pauli_pool,
)
from chemistry.fermion_ops import annihilate, create, determinants, sector_matrix, transition_rdm
from chemistry.gate_counts import gate_counts
from chemistry.gqe import (
    GQEConfig,
    GQEResult,
    OperatorPool,
    excitation_pool,
    pauli_pool,
    run_gqe,
    uccsd_string_pool,
)
from chemistry.mapping import (
    fermionic_number_operator,
    hf_bitstring,
    number_operator,
    qubit_hamiltonian,
    spin_z_operator,
)
from chemistry.molecules import BOND_LENGTHS, GEOMETRIES, Molecule, molecule
from chemistry.pauli_evolution import PauliSequence
from chemistry.ucc import run_uccsd
from chemistry.vqe import VQEResult, adapt_vqe, hardware_efficient_circuit, run_vqe, uccsd_circuit
from chemistry.workflow import GroundState, ground_state

__all__ = [
    "BOND_LENGTHS",
    "GEOMETRIES",
    "AugerSpectrum",
    "CoreHoleState",
    "EOMResult",
    "GQEConfig",
    "GQEResult",
    "GroundState",
    "Manifold",
    "Molecule",
    "OperatorPool",
    "PauliSequence",
    "annihilate",
    "auger_spectrum",
    "core_hole_state",
    "create",
    "determinants",
    "dip_manifold",
    "exact_eigenstates",
    "exact_ground_state",
    "exact_ionised_states",
    "excitation_generator",
    "excitation_pauli_terms",
    "excitation_pool",
    "fermionic_number_operator",
    "gate_counts",
    "ground_state",
    "hf_bitstring",
    "ip_manifold",
    "molecule",
    "number_operator",
    "pauli_pool",
    "q_sc_eom",
    "qubit_hamiltonian",
    "run_gqe",
    "run_uccsd",
    "sector_matrix",
    "spin_z_operator",
    "transition_rdm",
    "uccsd_excitations",
    "uccsd_pauli_pool",
    "uccsd_string_pool",
    "VQEResult",
    "adapt_vqe",
    "hardware_efficient_circuit",
    "run_vqe",
    "uccsd_circuit",
]
