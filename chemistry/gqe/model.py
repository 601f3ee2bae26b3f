"""The GQE generator: a GPT-2 over the operator pool whose logits act as energies (tokens drawn from
``softmax(-beta * logits)``), its sequence log-probabilities and the two losses (logit matching, GRPO)."""

from __future__ import annotations

import torch

from chemistry.gqe.config import GQEConfig
from qml.generators.lm import gpt2_lm, kv_cache


def make_model(vocab_size: int, config: GQEConfig):
    """A GPT-2 language model over the pool, sized by the config, initialised from the seed."""
    torch.manual_seed(config.seed)
    return gpt2_lm(
        vocab_size,
        n_positions=config.ngates + 1,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
    )


@torch.no_grad()
def sample(model, n: int, ngates: int, beta: float, generator: torch.Generator | None = None):
    """``n`` token sequences ``(n, ngates + 1)`` starting with token 0, each next token drawn from
    ``softmax(-beta * logits)``; also returns the sequences' log-probabilities under that law."""
    model.eval()
    device = next(model.parameters()).device
    seq = torch.zeros(n, 1, dtype=torch.long, device=device)
    logp = torch.zeros(n, dtype=torch.float64, device=device)
    cache, last = kv_cache(model), seq
    for _ in range(ngates):
        out = model(input_ids=last, use_cache=True, **cache)
        cache = kv_cache(model, out)
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
