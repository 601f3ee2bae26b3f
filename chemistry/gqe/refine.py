"""Continuous re-optimisation of a GQE circuit's angles: the generator picks the operators and their
order from a discrete pool; L-BFGS then tunes one angle per token with the structure (and so the gate
count) unchanged, optionally with every token's rotation angle bounded (``max_angle``).

Why the bound: q-sc-EOM (the Auger spectrum) uses ``U`` on the ionised determinants, not only on
``|HF>``. Unbounded, L-BFGS drove two copies of one water double excitation to +1.22 and -1.40 rad:
they nearly cancel on ``|HF>`` (0.03 mHa gained over |theta| <= 0.2) but not on the core-ionised
determinants, and the O 1s core-hole state rose 58 mHa (a 1.56 eV Auger shift)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from qiskit.quantum_info import SparsePauliOp

from chemistry.gqe.pool import OperatorPool
from chemistry.pauli_evolution import PauliSequence, PauliTable, SparseHamiltonian, basis_states, evolve
from circuits.errors import ChemistryError


@dataclass
class RefinedCircuit:
    """The re-optimised circuit: energy before and after, one angle scale per kept token."""

    energy: float
    energy_before: float
    sequence: PauliSequence
    scales: np.ndarray  # multiplier of each kept token's angles (1 = the pool's value)
    n_evaluations: int
    seconds: float
    rotation_angles: np.ndarray | None = None  # |theta| of each kept token after the refit (radians)


def _blocks(pool: OperatorPool, tokens: Sequence[int]) -> list[list[tuple[str, float]]]:
    """Non-identity tokens, adjacent repeats of the same generator merged (angles add); a run whose
    angles cancel exactly (``+t, -t``) is the identity and is left out."""
    runs: list[tuple[list[tuple[str, float]], float]] = []  # (first token's steps, sum of multiples)
    for j in tokens:
        steps = [(lab, t) for lab, t in pool.tokens[int(j)] if set(lab) != {"I"} and t != 0]
        if not steps:
            continue
        if runs and [lab for lab, _ in runs[-1][0]] == [lab for lab, _ in steps]:
            ratio = [t / t0 for (_, t), (_, t0) in zip(steps, runs[-1][0], strict=True)]
            if np.allclose(ratio, ratio[0]):  # same generator, another angle: merge
                runs[-1] = (runs[-1][0], runs[-1][1] + ratio[0])
                continue
        runs.append((steps, 1.0))
    return [[(lab, t0 * k) for lab, t0 in steps] for steps, k in runs if abs(k) > 1e-12]


def _state_vector_energy(hamiltonian, pool, blocks, initial_bitstring, base, owner):
    h = SparseHamiltonian(hamiltonian)
    psi0 = basis_states([initial_bitstring])
    labels = sorted({lab for steps in blocks for lab, _ in steps})
    index = {lab: i for i, lab in enumerate(labels)}
    table = PauliTable.build(labels, pool.n_qubits)
    which = torch.as_tensor([index[lab] for steps in blocks for lab, _ in steps])

    def energy(s: torch.Tensor) -> torch.Tensor:
        return h.energy(evolve(psi0, table, which, (base * s[owner])[None]))[0]

    return energy


def _sector_energy(hamiltonian, pool, blocks, initial_bitstring):
    """``s -> <H>`` on the reachable sector, ``exp(-i s A) = V exp(-i s lambda) V^dagger`` per token;
    None where the pool does not conserve particle number (the sector could be the whole space)."""
    from chemistry.gqe.sector import reachable_sector, sector_generator, sector_hamiltonian

    if not pool.conserves_particle_number:
        return None
    basis = reachable_sector(pool, initial_bitstring)
    h = sector_hamiltonian(hamiltonian, basis, torch.complex128)
    eig = [np.linalg.eigh(sector_generator(steps, pool.n_qubits, basis)) for steps in blocks]
    lam = [torch.as_tensor(w) for w, _ in eig]
    vec = [torch.as_tensor(v) for _, v in eig]
    psi0 = torch.zeros(basis.size, dtype=torch.complex128)
    psi0[int(np.searchsorted(basis, int(initial_bitstring, 2)))] = 1.0

    def energy(s: torch.Tensor) -> torch.Tensor:
        psi = psi0
        for k in range(len(vec)):
            psi = vec[k] @ (torch.exp(-1j * s[k] * lam[k]) * (vec[k].conj().T @ psi))
        return (psi.conj() @ (h @ psi)).real / (psi.conj() @ psi).real

    return energy


def refine_angles(
    hamiltonian: SparsePauliOp,
    pool: OperatorPool,
    tokens: Sequence[int],
    initial_bitstring: str,
    *,
    maxiter: int = 200,
    sector: bool = True,
    max_angle: float | None = None,
) -> RefinedCircuit:
    """Minimise ``<H>`` over one scale per token of ``tokens`` (each token ``exp(-i s sum_j a_j P_j)``,
    ``s`` from 1) with L-BFGS, exactly: on the pool's reachable sector (each token through the
    eigenvectors of its generator there) when the pool conserves particle number and ``sector``,
    else on full state vectors.

    ``max_angle`` (radians, None: unbounded) bounds each token's rotation angle
    ``|s| sum_j |a_j|`` (for an excitation rotation ``exp(-i theta G)``, ``sum_j |a_j| = |theta|``)
    through ``s = b tanh(u)``; a circuit meant for q-sc-EOM needs it (see the module docstring)."""
    t0 = time.perf_counter()
    if max_angle is not None and not (np.isfinite(max_angle) and max_angle > 0):
        raise ChemistryError(f"max_angle must be > 0 radians or None, got {max_angle!r}")
    blocks = _blocks(pool, tokens)
    if not blocks:
        e = float(SparseHamiltonian(hamiltonian).energy(basis_states([initial_bitstring]))[0])
        return RefinedCircuit(e, e, PauliSequence([], [], pool.n_qubits), np.zeros(0), 1, 0.0, np.zeros(0))
    base = torch.as_tensor([t for steps in blocks for _, t in steps], dtype=torch.float64)
    owner = torch.as_tensor([k for k, steps in enumerate(blocks) for _ in steps])
    norm = np.array([sum(abs(t) for _, t in steps) for steps in blocks])  # rotation angle at s = 1
    energy = _sector_energy(hamiltonian, pool, blocks, initial_bitstring) if sector else None
    if energy is None:
        energy = _state_vector_energy(hamiltonian, pool, blocks, initial_bitstring, base, owner)

    if max_angle is None:
        param = torch.ones(len(blocks), dtype=torch.float64, requires_grad=True)

        def scales(p: torch.Tensor) -> torch.Tensor:
            return p
    else:
        bound = torch.as_tensor(max_angle / norm, dtype=torch.float64)  # largest |s| per token
        # start at s = 1, or just inside the bound (tanh is flat at the bound itself)
        start = torch.atanh(torch.clamp(1.0 / bound, -1 + 1e-3, 1 - 1e-3))
        param = start.clone().requires_grad_(True)

        def scales(p: torch.Tensor) -> torch.Tensor:
            return bound * torch.tanh(p)

    with torch.no_grad():
        before = float(energy(torch.ones(len(blocks), dtype=torch.float64)))
    opt = torch.optim.LBFGS(
        [param],
        lr=1.0,
        max_iter=maxiter,
        tolerance_grad=1e-9,
        tolerance_change=1e-12,
        history_size=50,
        line_search_fn="strong_wolfe",
    )
    count = [0]

    def closure():
        opt.zero_grad()
        e = energy(scales(param))
        e.backward()
        count[0] += 1
        return e

    opt.step(closure)
    with torch.no_grad():
        s = scales(param).numpy().copy()
        after = float(energy(torch.as_tensor(s)))
    if not np.isfinite(after):
        raise ChemistryError("angle refinement diverged")
    within = max_angle is None or bool(np.all(norm <= max_angle * (1 + 1e-12)))
    if after > before and within:  # never return a worse circuit than the sampled one (if allowed)
        s, after = np.ones(len(blocks)), before
    angles = (base * torch.as_tensor(s)[owner]).tolist()
    seq = PauliSequence([lab for steps in blocks for lab, _ in steps], angles, pool.n_qubits)
    return RefinedCircuit(after, before, seq, s, count[0] + 2, time.perf_counter() - t0, np.abs(s) * norm)
