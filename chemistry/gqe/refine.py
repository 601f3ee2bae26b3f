"""Continuous re-optimisation of a GQE circuit's angles: the generator picks the operators and their
order from a discrete pool; L-BFGS then tunes one angle per token with the structure (and so the gate
count) unchanged."""

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


def _blocks(pool: OperatorPool, tokens: Sequence[int]) -> list[list[tuple[str, float]]]:
    """Non-identity tokens, adjacent repeats of the same generator merged (angles add)."""
    out: list[list[tuple[str, float]]] = []
    for j in tokens:
        steps = [(lab, t) for lab, t in pool.tokens[int(j)] if set(lab) != {"I"} and t != 0]
        if not steps:
            continue
        if out and [lab for lab, _ in out[-1]] == [lab for lab, _ in steps]:
            ratio = [t / t0 for (_, t), (_, t0) in zip(steps, out[-1], strict=True)]
            if np.allclose(ratio, ratio[0]):  # same generator, another angle: merge
                out[-1] = [(lab, t0 * (1 + ratio[0])) for lab, t0 in out[-1]]
                continue
        out.append(steps)
    return out


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
) -> RefinedCircuit:
    """Minimise ``<H>`` over one scale per token of ``tokens`` (each token ``exp(-i s sum_j a_j P_j)``,
    ``s`` from 1) with L-BFGS, exactly: on the pool's reachable sector (each token through the
    eigenvectors of its generator there) when the pool conserves particle number and ``sector``,
    else on full state vectors."""
    t0 = time.perf_counter()
    blocks = _blocks(pool, tokens)
    if not blocks:
        e = float(SparseHamiltonian(hamiltonian).energy(basis_states([initial_bitstring]))[0])
        return RefinedCircuit(e, e, PauliSequence([], [], pool.n_qubits), np.zeros(0), 1, 0.0)
    base = torch.as_tensor([t for steps in blocks for _, t in steps], dtype=torch.float64)
    owner = torch.as_tensor([k for k, steps in enumerate(blocks) for _ in steps])
    scale = torch.ones(len(blocks), dtype=torch.float64, requires_grad=True)
    energy = _sector_energy(hamiltonian, pool, blocks, initial_bitstring) if sector else None
    if energy is None:
        energy = _state_vector_energy(hamiltonian, pool, blocks, initial_bitstring, base, owner)

    with torch.no_grad():
        before = float(energy(scale))
    opt = torch.optim.LBFGS(
        [scale],
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
        e = energy(scale)
        e.backward()
        count[0] += 1
        return e

    opt.step(closure)
    with torch.no_grad():
        after = float(energy(scale))
    if not np.isfinite(after):
        raise ChemistryError("angle refinement diverged")
    s = scale.detach().numpy().copy()
    if after > before:  # never return a worse circuit than the sampled one
        s, after = np.ones(len(blocks)), before
    angles = (base * torch.as_tensor(s)[owner]).tolist()
    seq = PauliSequence([lab for steps in blocks for lab, _ in steps], angles, pool.n_qubits)
    return RefinedCircuit(after, before, seq, s, count[0] + 2, time.perf_counter() - t0)
