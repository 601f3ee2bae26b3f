"""The QRNN's building blocks shared by the reference cell (:mod:`.qrnn`) and the fast cell
(:mod:`.qrnn_fast`): the postselected rotation with its analytic backward, renormalisation, bit
conversions and the forward pass's output record."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["QRNNOutput"]


def _normalize(psi: torch.Tensor) -> torch.Tensor:
    norm = psi.flatten(1).norm(dim=1).clamp_min(1e-300)
    return psi / norm.reshape([-1] + [1] * (psi.ndim - 1))


class _Rotate(torch.autograd.Function):
    """``out = [[c, -s], [s, c]]`` on tensor dim ``dim`` (size 2) of ``psi``, with ``c``/``s``
    broadcast over the other dims (size 1 along ``dim``). One autograd node with an analytic
    backward: the QRNN applies thousands of these per sequence, so graph size is the cost."""

    @staticmethod
    def forward(ctx, psi, c, s, dim):
        p0, p1 = psi.narrow(dim, 0, 1), psi.narrow(dim, 1, 1)
        ctx.save_for_backward(psi, c, s)
        ctx.dim = dim
        return torch.cat([c * p0 - s * p1, s * p0 + c * p1], dim=dim)

    @staticmethod
    def backward(ctx, grad):
        psi, c, s = ctx.saved_tensors
        dim = ctx.dim
        p0, p1 = psi.narrow(dim, 0, 1), psi.narrow(dim, 1, 1)
        g0, g1 = grad.narrow(dim, 0, 1), grad.narrow(dim, 1, 1)
        grad_psi = torch.cat([c * g0 + s * g1, c * g1 - s * g0], dim=dim) if ctx.needs_input_grad[0] else None
        grad_c = (g0 * p0 + g1 * p1).sum_to_size(c.shape) if ctx.needs_input_grad[1] else None
        grad_s = (g1 * p0 - g0 * p1).sum_to_size(s.shape) if ctx.needs_input_grad[2] else None
        return grad_psi, grad_c, grad_s, None


@dataclass
class QRNNOutput:
    """``probs``: ``(B, T, 2**input_size)`` output distribution per step (in/out lane 0 is the most
    significant bit of the index); ``measured``: ``(B, T, input_size)`` the postselected or sampled
    bits; ``postselection_probs``: ``(B, T)`` probability of each postselected outcome (1 where sampled)."""

    probs: torch.Tensor
    measured: torch.Tensor
    postselection_probs: torch.Tensor

    @property
    def min_postselection_prob(self) -> float:
        return float(self.postselection_probs.detach().min()) if self.postselection_probs.numel() else 1.0


def _bits_to_int(bits: torch.Tensor) -> torch.Tensor:
    """Bit vectors (first bit most significant) to integers."""
    w = bits.shape[-1]
    weights = torch.tensor([1 << (w - 1 - i) for i in range(w)], device=bits.device)
    return (bits.long() * weights).sum(-1)


def _int_to_bits(values: torch.Tensor, width: int) -> torch.Tensor:
    shifts = torch.tensor([width - 1 - i for i in range(width)], device=values.device)
    return (values.long().unsqueeze(-1) >> shifts) & 1
