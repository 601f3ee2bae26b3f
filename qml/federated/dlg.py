"""The classical baseline: Deep Leakage from Gradients (Zhu, Liu, Han, NeurIPS 2019) on a small
tanh MLP regressor, with the same budget and success measure as the quantum attacks."""

from __future__ import annotations

import torch
from torch import nn

from .attacks import AttackResult, _descend

__all__ = ["MLPTarget", "dlg_attack"]


class MLPTarget:
    """``d -> hidden -> hidden -> 1`` tanh MLP (float64, seeded), its gradient for one (x*, y)."""

    def __init__(self, d: int = 4, hidden: int = 16, *, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        torch_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        self.net = nn.Sequential(
            nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1)
        ).double()
        torch.random.set_rng_state(torch_state)
        self.names = [n for n, _ in self.net.named_parameters()]
        self.params = [p.detach() for p in self.net.parameters()]
        self.n = d
        self.x_star = (torch.rand(d, generator=gen, dtype=torch.float64) * 2 - 1).detach()
        self.y = float(torch.rand((), generator=gen, dtype=torch.float64) * 2 - 1)
        self.g_star = self.gradients(self.x_star[None])[0].detach()

    def gradients(self, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
        """Per-sample flattened parameter gradients ``(M, P)`` of (net(x) - y)^2."""
        out = []
        with torch.enable_grad():
            for row in x:
                ps = [p.clone().requires_grad_(True) for p in self.params]
                f = torch.func.functional_call(self.net, dict(zip(self.names, ps, strict=True)), (row[None],))
                grads = torch.autograd.grad(((f - self.y) ** 2).sum(), ps, create_graph=create_graph)
                out.append(torch.cat([g.reshape(-1) for g in grads]))
        g = torch.stack(out)
        return g if create_graph else g.detach()

    def matching_loss(self, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
        g = self.gradients(x, create_graph=create_graph)
        return (g - self.g_star).square().sum(1) / self.g_star.square().sum().clamp_min(1e-30)


def dlg_attack(
    target: MLPTarget,
    *,
    starts: int = 16,
    steps: int = 300,
    lr: float = 0.05,
    lbfgs_iters: int = 100,
    seed: int = 0,
) -> AttackResult:
    """DLG: gradient matching from random starts in [-1, 1)^d (no period: the error is plain)."""
    gen = torch.Generator().manual_seed(10_000 + seed)
    x0 = torch.rand(starts, target.n, generator=gen, dtype=torch.float64) * 2 - 1
    x = _descend(lambda v: target.matching_loss(v, create_graph=True), x0, steps, lr, lbfgs_iters)
    return AttackResult(x, target.matching_loss(x), target.x_star, period=float("inf"))
