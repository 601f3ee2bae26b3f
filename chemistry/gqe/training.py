"""Generative quantum eigensolver (GQE, Nakaji et al. 2024): a GPT-2 that writes ground-state circuits.

The model's logits act as energies: a token is sampled from ``softmax(-beta * logits)`` with the
inverse temperature ``beta`` raised over training, a sequence is the circuit "initial state, then
the tokens' Pauli exponentials", and its energy is the cost. Two losses: logit matching (the GQE
paper, cudaqx main) and GRPO (cudaqx's newer branch), both over a replay buffer. The model is
``transformers.GPT2LMHeadModel`` trained from scratch; candidates' energies come in one batch from
:class:`chemistry.gqe.energy.CandidateEnergies`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from qiskit.quantum_info import SparsePauliOp

from chemistry.gqe.config import GQEConfig
from chemistry.gqe.energy import CandidateEnergies
from chemistry.gqe.model import exp_loss, grpo_loss, make_model, sample
from chemistry.gqe.pool import OperatorPool
from chemistry.pauli_evolution import PauliSequence
from circuits.errors import ChemistryError, KetmlError
from circuits.files import write_json


class NothingToResumeError(KetmlError, FileNotFoundError):
    """``resume=True`` but the output folder holds no checkpoint."""


@dataclass
class GQEResult:
    """Best circuit found, its energy and the training trace."""

    energy: float
    tokens: list[int]
    sequence: PauliSequence
    initial_bitstring: str
    history: dict[str, list[float]]
    n_evaluations: int
    seconds: float
    names: list[str] = field(default_factory=list)
    sampled_energy: float | None = None  # best sampled energy before angle refinement (if any)

    def circuit(self):
        """The best circuit as a Qiskit circuit (initial-state X gates, then PauliEvolutionGates)."""
        return self.sequence.to_circuit(self.initial_bitstring)

    def gate_counts(self, optimization_level: int = 1) -> dict:
        from chemistry.circuit_cost import gate_counts

        return gate_counts(self.circuit(), optimization_level=optimization_level)


class ReplayBuffer:
    """The last ``size`` candidates (tokens, energies, log-probability when sampled), plus the
    ``elite`` distinct lowest-energy sequences seen so far (kept however old)."""

    def __init__(self, size: int, elite: int = 0):
        self.size, self.elite = size, elite
        self.seq = self.energy = self.logp = None
        self.best = None  # (seq, energy, logp) of the elite

    def __len__(self) -> int:
        return 0 if self.seq is None else self.seq.shape[0]

    def push(self, seq, energy, logp) -> None:
        if self.seq is None:
            self.seq, self.energy, self.logp = seq, energy, logp
        else:
            self.seq = torch.cat([self.seq, seq])[-self.size :]
            self.energy = torch.cat([self.energy, energy])[-self.size :]
            self.logp = torch.cat([self.logp, logp])[-self.size :]
        if self.elite:
            parts = [seq, energy, logp]
            if self.best is not None:
                parts = [torch.cat([b, x]) for b, x in zip(self.best, parts, strict=True)]
            _, first = np.unique(parts[0].numpy(), axis=0, return_index=True)
            first = torch.as_tensor(np.sort(first))
            order = first[torch.argsort(parts[1][first], stable=True)][: self.elite]
            self.best = tuple(x[order] for x in parts)

    def batch(self, n: int, generator: torch.Generator):
        seq, energy, logp = self.seq, self.energy, self.logp
        if self.best is not None:
            parts = zip((seq, energy, logp), self.best, strict=True)
            seq, energy, logp = (torch.cat([a, b]) for a, b in parts)
        idx = torch.randperm(seq.shape[0], generator=generator)[:n]
        return seq[idx], energy[idx], logp[idx]

    def state(self) -> dict:
        return {"seq": self.seq, "energy": self.energy, "logp": self.logp, "best": self.best}

    def load(self, state: dict) -> None:
        self.seq, self.energy, self.logp = state["seq"], state["energy"], state["logp"]
        self.best = state.get("best")


def run_gqe(
    hamiltonian: SparsePauliOp,
    pool: OperatorPool,
    initial_bitstring: str,
    config: GQEConfig | None = None,
    *,
    energies: CandidateEnergies | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    target: float | None = None,
    tolerance: float = 1.6e-3,
    progress: bool = True,
    **energy_options,
) -> GQEResult:
    """Train a GPT-2 to generate low-energy circuits for ``hamiltonian``; return the best found.

    ``out_dir`` receives ``checkpoint.pt`` (model, optimiser, buffer, RNG, best circuit; every
    ``checkpoint_every`` iterations and at the end) and ``gqe.json``; ``resume=True`` continues
    from the checkpoint. With ``target`` (e.g. the FCI energy) training stops once the best energy
    is within ``tolerance`` of it. ``energy_options`` go to :class:`CandidateEnergies`.
    """
    config = (config or GQEConfig()).check()
    if len(initial_bitstring) != pool.n_qubits or set(initial_bitstring) - {"0", "1"}:
        raise ChemistryError(
            f"initial bitstring {initial_bitstring!r} must be {pool.n_qubits} characters of 0/1"
        )
    cost = energies or CandidateEnergies(hamiltonian, pool, initial_bitstring, **energy_options)
    model = make_model(len(pool), config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    buffer = ReplayBuffer(config.buffer_size, config.elite)
    history = {"min": [], "mean": [], "best": [], "beta": [], "loss": []}
    start, beta = 0, config.beta0
    start_energy = float(cost(torch.zeros(1, 1, dtype=torch.long))[0])  # the bare initial state
    offset = start_energy if config.energy_offset is None else config.energy_offset
    # the initial state itself is a candidate: GQE never returns a circuit worse than doing nothing
    best_e, best_seq = start_energy, torch.zeros(config.ngates + 1, dtype=torch.long)
    out = Path(out_dir) if out_dir is not None else None
    ckpt = out / "checkpoint.pt" if out is not None else None
    if resume:
        if ckpt is None or not ckpt.exists():
            raise NothingToResumeError(f"nothing to resume: {ckpt} does not exist (run without resume first)")
        state = torch.load(ckpt, weights_only=False)
        if state["vocab"] != len(pool) or state["config"]["ngates"] != config.ngates:
            raise ChemistryError(f"{ckpt} was written for another pool or sequence length")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        buffer.load(state["buffer"])
        history, best_e, best_seq = state["history"], state["best_energy"], state["best_seq"]
        start, beta, offset = state["iteration"], state["beta"], state["offset"]
    t0 = time.perf_counter() - (history.get("seconds", [0.0]) or [0.0])[-1]

    def save(iteration: int) -> None:
        if out is None:
            return
        out.mkdir(parents=True, exist_ok=True)
        history["seconds"] = [time.perf_counter() - t0]
        tmp = ckpt.with_suffix(".tmp")
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(),
                "buffer": buffer.state(),
                "history": history,
                "best_energy": best_e,
                "best_seq": best_seq,
                "iteration": iteration,
                "beta": beta,
                "offset": offset,
                "vocab": len(pool),
                "config": asdict(config),
            },
            tmp,
        )
        tmp.replace(ckpt)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.max_iters, initial=start, desc="GQE", unit="iter")
    it = start
    for it in range(start, config.max_iters):
        if target is not None and best_e - target <= tolerance:
            break  # checked first, so a resumed run that had reached the target stops at once
        seq, logp = sample(model, config.num_samples, config.ngates, beta, generator)
        e = torch.as_tensor(cost(seq[:, 1:]), dtype=torch.float64)
        buffer.push(seq, e, logp)
        i = int(torch.argmin(e))
        if float(e[i]) < best_e:
            best_e, best_seq = float(e[i]), seq[i].clone()
        losses = []
        if len(buffer) >= max(config.warmup, 1):
            model.train()
            for _ in range(config.steps_per_iter):
                bs, be, bl = buffer.batch(config.batch_size, generator)
                if config.loss == "exp":
                    loss = exp_loss(model, bs, be, offset)
                else:
                    loss = grpo_loss(model, bs, be, bl, beta, config.clip_ratio, best_seq, config.best_weight)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                losses.append(float(loss.detach()))
        history["min"].append(float(e.min()))
        history["mean"].append(float(e.mean()))
        history["best"].append(best_e)
        history["beta"].append(beta)
        history["loss"].append(float(np.mean(losses)) if losses else float("nan"))
        if config.schedule == "linear":
            beta += config.beta_step
        else:
            beta = max(
                0.0,
                beta + (config.beta_step if float(e.var()) > config.variance_target else -config.beta_step),
            )
        if bar is not None:
            bar.update(1)
            bar.set_postfix(best=f"{best_e:.6f}", mean=f"{float(e.mean()):.4f}", beta=f"{beta:.2f}")
        if config.checkpoint_every and (it + 1) % config.checkpoint_every == 0:
            save(it + 1)
    else:
        it = config.max_iters
    if bar is not None:
        bar.close()
    save(it)
    tokens = best_seq[1:].tolist() if best_seq is not None else []
    sequence, energy, refined = pool.sequence(tokens).simplified(), best_e, None
    if config.refine_maxiter:
        from chemistry.gqe.refine import refine_angles

        refined = refine_angles(
            hamiltonian,
            pool,
            tokens,
            initial_bitstring,
            maxiter=config.refine_maxiter,
            max_angle=config.refine_max_angle,
        )
        sequence, energy = refined.sequence.simplified(), refined.energy
    result = GQEResult(
        energy=energy,
        tokens=tokens,
        sequence=sequence,
        initial_bitstring=initial_bitstring,
        history=history,
        n_evaluations=cost.n_evaluations,
        seconds=time.perf_counter() - t0,
        names=[pool.names[j] for j in tokens],
        sampled_energy=best_e,
    )
    if out is not None:
        write_json(  # atomically: a reader never sees half a file
            out / "gqe.json",
            {
                "energy": result.energy,
                "sampled_energy": best_e,
                "refined_scales": None if refined is None else refined.scales.tolist(),
                "refined_rotation_angles": None if refined is None else refined.rotation_angles.tolist(),
                "tokens": tokens,
                "names": result.names,
                "iterations": it,
                "n_evaluations": result.n_evaluations,
                "seconds": result.seconds,
                "history": {k: v for k, v in history.items() if k != "seconds"},
                "config": asdict(config),
            },
        )
    return result
