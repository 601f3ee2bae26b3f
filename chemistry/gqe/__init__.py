"""Generative quantum eigensolver (GQE): a GPT-2 that writes ground-state circuits from an operator
pool. Modules: :mod:`~chemistry.gqe.config` (settings, recipes), :mod:`~chemistry.gqe.pool` (the
tokens' Pauli exponentials), :mod:`~chemistry.gqe.energy` (batched candidate energies),
:mod:`~chemistry.gqe.model` (the generator, sampling, losses) and :mod:`~chemistry.gqe.training`
(:func:`run_gqe`)."""

from chemistry.gqe.config import GQE_RECIPES, GQEConfig
from chemistry.gqe.energy import CandidateEnergies
from chemistry.gqe.pool import OperatorPool, excitation_pool, pauli_pool, uccsd_string_pool
from chemistry.gqe.training import GQEResult, run_gqe

__all__ = [
    "GQE_RECIPES",
    "CandidateEnergies",
    "GQEConfig",
    "GQEResult",
    "OperatorPool",
    "excitation_pool",
    "pauli_pool",
    "run_gqe",
    "uccsd_string_pool",
]
