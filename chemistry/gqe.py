"""Generative quantum eigensolver (GQE, Nakaji et al. 2024): a GPT-2 that writes ground-state circuits.

The model's logits act as energies: a token is sampled from ``softmax(-beta * logits)`` with the
inverse temperature ``beta`` raised over training, a sequence is the circuit "initial state, then
the tokens' Pauli exponentials", and its energy is the cost. Two losses: logit matching (the GQE
paper, cudaqx main) and GRPO (cudaqx's newer branch), both over a replay buffer. The model is
``transformers.GPT2LMHeadModel`` trained from scratch; candidates' energies come in one batch from
:class:`chemistry.gqe_energy.CandidateEnergies`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from qiskit.quantum_info import SparsePauliOp

from chemistry.gqe_energy import CandidateEnergies
from chemistry.gqe_pool import OperatorPool
from chemistry.pauli_evolution import PauliSequence

LOSSES = ("exp", "grpo")
SCHEDULES = ("linear", "variance")
#: Training recipe per loss, measured in benchmarks/repro_chemistry.py: GRPO from beta 1 with a
#: slow ramp and a light best-sequence term (LiH to chemical accuracy in ~45 iterations, where a
#: fast ramp collapsed the sampler); logit matching with one step per iteration and a fast ramp
#: (H2 in a few iterations). Used by ``ketml chem`` and the reproduction.
GQE_RECIPES = {
    "grpo": dict(lr=1e-3, beta0=1.0, beta_step=0.1, best_weight=0.1, steps_per_iter=5),
    "exp": dict(lr=1e-3, beta0=5.0, beta_step=0.5, steps_per_iter=1),
}


@dataclass
class GQEConfig:
    """GQE settings; defaults are small enough for a laptop CPU (cudaqx's GPT-2 is 12 x 768)."""

    ngates: int = 20  # tokens per circuit (after the start token)
    num_samples: int = 50  # candidates per iteration
    max_iters: int = 100
    loss: str = "grpo"  # "exp" (logit matching) or "grpo"
    lr: float = 1e-4
    grad_clip: float = 1.0
    beta0: float = 5.0  # inverse temperature of the sampler
    beta_step: float = 0.05  # linear: beta += step each iteration; variance: +- step
    schedule: str = "linear"
    variance_target: float = 1e-5  # variance schedule: heat up while Var(E) is above this
    buffer_size: int = 100
    warmup: int = 0  # candidates in the buffer before training starts
    steps_per_iter: int = 5  # optimiser steps per iteration
    batch_size: int = 50  # buffer rows per optimiser step
    clip_ratio: float = 0.2  # GRPO
    best_weight: float = 1.0  # GRPO: weight of -log p(best sequence so far)
    energy_offset: float | None = None  # exp loss: subtract this from E (default: initial-state energy)
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    seed: int = 3047
    checkpoint_every: int = 10  # iterations; 0: never

    def check(self) -> GQEConfig:
        if self.loss not in LOSSES:
            raise ValueError(f"unknown GQE loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown beta schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        for name in ("ngates", "num_samples", "max_iters", "buffer_size", "batch_size",
                     "n_layer", "n_head", "n_embd"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        if self.lr <= 0 or self.beta0 < 0:
            raise ValueError("lr must be > 0 and beta0 >= 0")
        return self


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

    def circuit(self):
        """The best circuit as a Qiskit circuit (initial-state X gates, then PauliEvolutionGates)."""
        return self.sequence.to_circuit(self.initial_bitstring)

    def gate_counts(self, optimization_level: int = 1) -> dict:
        from chemistry.gate_counts import gate_counts

        return gate_counts(self.circuit(), optimization_level=optimization_level)


def make_model(vocab_size: int, config: GQEConfig):
    """A GPT-2 language model over the pool, sized by the config, initialised from the seed."""
    try:
        from transformers import GPT2Config, GPT2LMHeadModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("GQE needs transformers: pip install 'ketml[chem]'") from exc
    hf_logging.set_verbosity_error()
    torch.manual_seed(config.seed)
    gpt = GPT2Config(
        vocab_size=vocab_size,
        n_positions=config.ngates + 1,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        bos_token_id=0,
        eos_token_id=0,
        resid_pdrop=0.0,  # no dropout: sampling and training see the same model, and resume is exact
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    return GPT2LMHeadModel(gpt)


@torch.no_grad()
def sample(model, n: int, ngates: int, beta: float, generator: torch.Generator | None = None):
    """``n`` token sequences ``(n, ngates + 1)`` starting with token 0, each next token drawn from
    ``softmax(-beta * logits)``; also returns the sequences' log-probabilities under that law."""
    model.eval()
    device = next(model.parameters()).device
    seq = torch.zeros(n, 1, dtype=torch.long, device=device)
    logp = torch.zeros(n, dtype=torch.float64, device=device)
    past, last = None, seq
    for _ in range(ngates):
        out = model(input_ids=last, past_key_values=past, use_cache=True)
        past = out.past_key_values
        log_probs = torch.log_softmax(-beta * out.logits[:, -1, :].double(), dim=-1)
        nxt = torch.multinomial(log_probs.exp(), 1, generator=generator)
        logp += log_probs.gather(1, nxt).squeeze(1)
        seq = torch.cat([seq, nxt], dim=1)
        last = nxt
    return seq, logp


def chosen_logits(model, seq: torch.Tensor) -> torch.Tensor:
    """Logits ``(n, ngates)`` the model gives each chosen token, teacher-forced."""
    logits = model(input_ids=seq[:, :-1]).logits
    return logits.gather(2, seq[:, 1:].unsqueeze(-1)).squeeze(-1)


def sequence_logp(model, seq: torch.Tensor, beta: float) -> torch.Tensor:
    """``log p(sequence)`` under ``softmax(-beta * logits)``, differentiable in the model."""
    logits = model(input_ids=seq[:, :-1]).logits.double()
    log_probs = torch.log_softmax(-beta * logits, dim=-1)
    return log_probs.gather(2, seq[:, 1:].unsqueeze(-1)).squeeze(-1).sum(dim=1)


def exp_loss(model, seq, energies, offset: float) -> torch.Tensor:
    """Logit matching: ``MSE(exp(-mean_t w_t), exp(-(E - offset)))`` (GQE paper, cudaqx 'exp')."""
    mean_logits = chosen_logits(model, seq).double().mean(dim=1)
    target = torch.exp(-(energies - offset))
    return torch.mean((torch.exp(-mean_logits) - target) ** 2)


def grpo_loss(model, seq, energies, old_logp, beta, clip, best_seq=None, best_weight=1.0):
    """GRPO: clipped policy ratio times the group-normalised advantage ``(mean E - E) / std E``,
    plus ``-log p`` of the best sequence so far (cudaqx's GRPOLoss)."""
    logp = sequence_logp(model, seq, beta)
    std = energies.std()
    adv = (energies.mean() - energies) / (std if std > 1e-12 else 1.0)
    ratio = torch.exp(logp - old_logp)
    surrogate = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv)
    loss = -surrogate.mean()
    if best_seq is not None and best_weight:
        loss = loss - best_weight * sequence_logp(model, best_seq[None], beta).mean() / best_seq.numel()
    return loss


class ReplayBuffer:
    """The last ``size`` candidates: tokens, energies and their log-probability when sampled."""

    def __init__(self, size: int):
        self.size = size
        self.seq = self.energy = self.logp = None

    def __len__(self) -> int:
        return 0 if self.seq is None else self.seq.shape[0]

    def push(self, seq, energy, logp) -> None:
        if self.seq is None:
            self.seq, self.energy, self.logp = seq, energy, logp
        else:
            self.seq = torch.cat([self.seq, seq])[-self.size :]
            self.energy = torch.cat([self.energy, energy])[-self.size :]
            self.logp = torch.cat([self.logp, logp])[-self.size :]

    def batch(self, n: int, generator: torch.Generator):
        idx = torch.randperm(len(self), generator=generator)[:n]
        return self.seq[idx], self.energy[idx], self.logp[idx]

    def state(self) -> dict:
        return {"seq": self.seq, "energy": self.energy, "logp": self.logp}

    def load(self, state: dict) -> None:
        self.seq, self.energy, self.logp = state["seq"], state["energy"], state["logp"]


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
        raise ValueError(f"initial bitstring {initial_bitstring!r} must be {pool.n_qubits} characters of 0/1")
    cost = energies or CandidateEnergies(hamiltonian, pool, initial_bitstring, **energy_options)
    model = make_model(len(pool), config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    buffer = ReplayBuffer(config.buffer_size)
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
            raise FileNotFoundError(f"nothing to resume: {ckpt} does not exist")
        state = torch.load(ckpt, weights_only=False)
        if state["vocab"] != len(pool) or state["config"]["ngates"] != config.ngates:
            raise ValueError(f"{ckpt} was written for another pool or sequence length")
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
        torch.save({
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "generator": generator.get_state(), "buffer": buffer.state(), "history": history,
            "best_energy": best_e, "best_seq": best_seq, "iteration": iteration, "beta": beta,
            "offset": offset, "vocab": len(pool), "config": asdict(config),
        }, tmp)
        tmp.replace(ckpt)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.max_iters, initial=start, desc="GQE", unit="iter")
    it = start
    for it in range(start, config.max_iters):
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
            beta = max(0.0, beta + (config.beta_step if float(e.var()) > config.variance_target
                                    else -config.beta_step))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(best=f"{best_e:.6f}", mean=f"{float(e.mean()):.4f}", beta=f"{beta:.2f}")
        if config.checkpoint_every and (it + 1) % config.checkpoint_every == 0:
            save(it + 1)
        if target is not None and best_e - target <= tolerance:
            it += 1
            break
    else:
        it = config.max_iters
    if bar is not None:
        bar.close()
    save(it)
    tokens = best_seq[1:].tolist() if best_seq is not None else []
    result = GQEResult(
        energy=best_e,
        tokens=tokens,
        sequence=pool.sequence(tokens).simplified(),
        initial_bitstring=initial_bitstring,
        history=history,
        n_evaluations=cost.n_evaluations,
        seconds=time.perf_counter() - t0,
        names=[pool.names[j] for j in tokens],
    )
    if out is not None:
        (out / "gqe.json").write_text(json.dumps({
            "energy": result.energy, "tokens": tokens, "names": result.names,
            "iterations": it, "n_evaluations": result.n_evaluations, "seconds": result.seconds,
            "history": {k: v for k, v in history.items() if k != "seconds"},
            "config": asdict(config),
        }, indent=2))
    return result
