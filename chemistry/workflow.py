"""From a molecule to a ground-state circuit and an Auger spectrum: what ``ketml chem`` runs.

A ground state here is a :class:`~chemistry.pauli_evolution.PauliSequence` ``U`` with
``|Psi0> = U|HF>`` built from particle-number-conserving excitation rotations (VQE-UCCSD or GQE
with the excitation pool), so that q-sc-EOM can use it directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chemistry.pauli_evolution import PauliSequence
from circuits.errors import ChemistryError

GROUND_STATE_METHODS = ("gqe", "vqe", "hf")


@dataclass
class GroundState:
    """A ground-state circuit ``U`` (on top of the HF determinant), its energy and gate counts."""

    method: str
    sequence: PauliSequence
    energy: float
    error: float  # energy - FCI (Hartree)
    gate_counts: dict
    seconds: float
    info: dict = field(default_factory=dict)


def uccsd_sequence(molecule, parameters) -> PauliSequence:
    """The UCCSD unitary with one angle per excitation (singles, then doubles) as Pauli steps."""
    from chemistry.excitations import excitation_pauli_terms, uccsd_excitations

    singles, doubles = uccsd_excitations(molecule.n_qubits, molecule.n_alpha, molecule.n_beta)
    excitations = [*singles, *doubles]
    parameters = np.asarray(parameters, dtype=float).ravel()
    if len(parameters) != len(excitations):
        raise ChemistryError(f"{len(excitations)} UCCSD excitations but {len(parameters)} parameters")
    labels, angles = [], []
    for exc, theta in zip(excitations, parameters, strict=True):
        for label, coeff in excitation_pauli_terms(exc, molecule.n_qubits):
            labels.append(label)
            angles.append(float(coeff) * float(theta))
    return PauliSequence(labels, angles, molecule.n_qubits)


def ground_state(
    molecule,
    method: str = "gqe",
    *,
    gqe_config=None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    vqe_options: dict | None = None,
    pool=None,
) -> GroundState:
    """Run GQE (excitation pool), VQE-UCCSD (:func:`chemistry.ucc.run_uccsd`, L-BFGS on the fast
    state-vector path) or nothing (HF) and return the ground-state circuit. ``pool``: GQE's
    operator pool (default :func:`chemistry.gqe.pool.molecule_pool`)."""
    from chemistry.circuit_cost import gate_counts

    if method not in GROUND_STATE_METHODS:
        choices = ", ".join(GROUND_STATE_METHODS)
        raise ChemistryError(f"unknown ground-state method {method!r}; choose one of {choices}")
    fci = molecule.energies["fci"]
    t0 = time.perf_counter()
    info: dict = {}
    if method == "hf":
        seq = PauliSequence([], [], molecule.n_qubits)
        energy = molecule.energies["hf"]
    elif method == "vqe":
        from chemistry.ucc import run_uccsd

        result = run_uccsd(molecule, progress=progress, **(vqe_options or {}))
        seq, energy = result.sequence, float(result.energy)
        info = {"n_evaluations": result.n_evaluations, "n_parameters": len(result.parameters)}
    else:
        from chemistry.gqe import GQEConfig, run_gqe
        from chemistry.gqe.pool import molecule_pool

        # default pool: UCCSD excitation rotations, core orbitals (e.g. O 1s) left out
        pool = molecule_pool(molecule) if pool is None else pool
        info["frozen_in_pool"] = list(pool.frozen)
        result = run_gqe(
            molecule.hamiltonian,
            pool,
            molecule.hf_bitstring,
            gqe_config or GQEConfig(),
            out_dir=out_dir,
            resume=resume,
            progress=progress,
            target=fci,
        )
        seq, energy = result.sequence, float(result.energy)
        info.update(
            {
                "iterations": len(result.history["best"]),
                "n_evaluations": result.n_evaluations,
                "tokens": result.names,
                "sampled_energy": result.sampled_energy,
            }
        )
    # the same clean-up for every method: merge commuting repeats, drop angles below 1e-6 rad
    seq = seq.simplified(atol=1e-6)
    counts = gate_counts(seq.to_circuit(molecule.hf_bitstring))
    return GroundState(method, seq, energy, energy - fci, counts, time.perf_counter() - t0, info)
