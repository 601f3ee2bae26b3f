"""Moments of a small circuit: single-qubit gates on distinct qubits gathered into Kronecker
moments, constant monomials into permutation moments, anything else a moment of its own.
Shared by the small-register path (``small.py``) and its fused tail (``unitary_tail.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .program import Op

__all__ = ["Moment", "const_matrix", "kron_factors", "leaves", "schedule"]


@dataclass
class Moment:
    kind: str  # "kron", "perm" or "generic"
    factors: dict = field(default_factory=dict)  # kron: qubit -> factor index
    parts: list = field(default_factory=list)  # perm: monomial (qubits, matrix) parts in order
    op: Op | None = None  # generic: the op
    per_sample: bool = False
    perm: Op | None = None  # perm: the canonical gather (built when the schedule is done)


def const_matrix(op: Op) -> np.ndarray:
    """A constant op's matrix (a diagonal op keeps only its diagonal)."""
    return np.diag(op.const) if op.kind == "diag" else np.asarray(op.const)


def leaves(op: Op) -> list[Op]:
    """The gates of a compound single-qubit op in time order (the op itself otherwise)."""
    return list(op.parts) if op.parts else [op]


def kron_factors(f):
    """``f[..., k-1, :, :] (x) ... (x) f[..., 0, :, :]`` for 2x2 factors ``(..., k, 2, 2)``
    (numpy or torch): ``(..., 2^k, 2^k)``, index bit j from factor j."""
    if isinstance(f, torch.Tensor) and f.requires_grad and torch.is_grad_enabled() and f.numel():
        return _kron_outer(f)
    lead = tuple(f.shape[:-3])
    acc = f[..., 0, :, :]
    for j in range(1, f.shape[-3]):
        m, d = f[..., j, :, :], acc.shape[-1]
        acc = (m[..., :, None, :, None] * acc[..., None, :, None, :]).reshape(lead + (2 * d, 2 * d))
    return acc


def _kron_outer(f: torch.Tensor) -> torch.Tensor:
    """``kron_factors`` as batched outer products (``bmm``) and one permutation per level: the
    forward is slower than broadcasting, but its backward is two ``bmm`` per level instead of
    broadcast reductions, 2x faster forward + backward (QFWP's per-sample moments)."""
    lead, k = tuple(f.shape[:-3]), f.shape[-3]
    f = f.reshape(-1, k, 2, 2)
    n = f.shape[0]
    acc = f[:, 0]
    for j in range(1, k):
        d = acc.shape[-1]
        out = torch.bmm(f[:, j].reshape(n, 4, 1), acc.reshape(n, 1, d * d))  # [a, b, c, e]
        acc = out.view(n, 2, 2, d, d).permute(0, 1, 3, 2, 4).reshape(n, 2 * d, 2 * d)
    return acc.reshape(lead + acc.shape[-2:])


def schedule(ops: list[Op], per_sample: list[bool]) -> tuple[list[Moment], list[tuple[Op, bool]]]:
    """Moments in an order equivalent to ``ops``; single-qubit ops join the earliest ``kron``
    moment after everything else on their qubit, constant monomials the latest ``perm`` moment
    when nothing later touches their qubits. Returns (moments, factors as (op, per_sample))."""
    moments: list[Moment] = []
    factors: list[tuple[Op, bool]] = []
    last: dict[int, int] = {}
    for op, ps in zip(ops, per_sample, strict=True):
        after = max((last.get(q, -1) for q in op.qubits), default=-1)
        if len(op.qubits) == 1:
            q = op.qubits[0]
            j = next((i for i in range(after + 1, len(moments)) if moments[i].kind == "kron"), None)
            if j is None:
                moments.append(Moment("kron"))
                j = len(moments) - 1
            moments[j].factors[q] = len(factors)
            moments[j].per_sample |= ps
            factors.append((op, ps))
        elif not op.parametric and op.kind in ("monomial", "diag"):
            j = next(
                (i for i in range(len(moments) - 1, max(after, 0) - 1, -1) if moments[i].kind == "perm"), None
            )
            if j is None:
                moments.append(Moment("perm"))
                j = len(moments) - 1
            moments[j].parts.append((op.qubits, const_matrix(op)))
        else:
            moments.append(Moment("generic", op=op, per_sample=ps))
            j = len(moments) - 1
        for q in op.qubits:
            last[q] = j
    return moments, factors
