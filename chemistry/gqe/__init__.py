"""Generative quantum eigensolver (GQE): a GPT-2 that writes ground-state circuits from an operator
pool. Modules: :mod:`~chemistry.gqe.config` (settings, recipes), :mod:`~chemistry.gqe.pool` (the
tokens' Pauli exponentials), :mod:`~chemistry.gqe.energy` (batched candidate energies),
:mod:`~chemistry.gqe.sector` (exact energies on the determinants a pool reaches),
:mod:`~chemistry.gqe.refine` (continuous re-optimisation of a circuit's angles),
:mod:`~chemistry.gqe.model` (the generator, sampling, losses) and :mod:`~chemistry.gqe.training`
(:func:`run_gqe`)."""

from chemistry.gqe.config import GQE_RECIPES, GQEConfig
from chemistry.gqe.energy import CandidateEnergies
from chemistry.gqe.pool import (
    OperatorPool,
    excitation_pool,
    molecule_pool,
    pauli_pool,
    screened_pool,
    uccsd_string_pool,
)
from chemistry.gqe.refine import RefinedCircuit, refine_angles
from chemistry.gqe.training import GQEResult, run_gqe

__all__ = [
    "GQE_RECIPES",
    "CandidateEnergies",
    "GQEConfig",
    "GQEResult",
    "OperatorPool",
    "RefinedCircuit",
    "excitation_pool",
    "molecule_pool",
    "pauli_pool",
    "refine_angles",
    "run_gqe",
    "screened_pool",
    "uccsd_string_pool",
]
