"""Adjoint differentiation: gradients of expectation values with a few state vectors of memory.

Forward runs the circuit without storing intermediates. Backward starts from
``phi = psi`` and ``lam = H psi`` (``H = sum_k g_k O_k`` with the incoming
gradient ``g``), walks the ops in reverse undoing each on both, and for every
parametric op forms the matrix cotangent ``G = sum conj(lam) (x) phi``; torch's
autograd then carries ``G`` through the gate formulas to the parameter values.
"""

from __future__ import annotations

import torch

from . import kernels
from .measure import PauliPlan
from .program import Op
from .simulator import run_statevector


class AdjointRun:
    """Everything the autograd function needs besides the parametric matrices."""

    def __init__(self, ops: list[Op], n: int, plan: PauliPlan, values: torch.Tensor, dtype, device):
        self.ops, self.n, self.plan = ops, n, plan
        self.values, self.dtype, self.device = values, dtype, device
        self.parametric = [i for i, op in enumerate(ops) if op.parametric and op.kind != "phase"]


class _Adjoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, run: AdjointRun, *mats: torch.Tensor) -> torch.Tensor:
        ops = _bound_ops(run, mats)
        sim = run_statevector(ops, run.n, run.values.detach(), run.dtype, run.device)
        ctx.run = run
        ctx.save_for_backward(sim.state, *mats)
        return run.plan.evaluate(sim.state)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        run: AdjointRun = ctx.run
        psi, *mats = ctx.saved_tensors
        n = run.n
        batch = psi.shape[0]
        lam = run.plan.apply(psi, grad_out.to(psi.real.dtype))
        shape = (batch,) + (2,) * n
        phi, lam = psi.reshape(shape), lam.reshape(shape)
        order = kernels.canonical_order(n)
        by_index = dict(zip(run.parametric, mats, strict=True))
        grads: dict[int, torch.Tensor] = {}
        for i in range(len(run.ops) - 1, -1, -1):
            op = run.ops[i]
            kind = op.kind
            if kind == "phase":
                continue
            if kind == "perm":
                phi, _ = kernels.apply_perm(phi, order, op, inverse=True)
                lam, order = kernels.apply_perm(lam, order, op, inverse=True)
                continue
            m = by_index[i] if i in by_index else op.tensor(run.values, run.dtype, run.device)
            if kind == "diag":
                phi, _ = kernels.apply_diag(phi, order, op.qubits, m.conj())
                if i in by_index:
                    grads[i] = _diag_cotangent(lam, phi, order, op.qubits, m.shape[0])
                lam, order = kernels.apply_diag(lam, order, op.qubits, m.conj())
                continue
            # dense: undo with M^dagger; rows (B, R, d) times conj(M) is M^dagger per row
            ps, new_order = kernels.targets_last(phi, order, op.qubits)
            ls, _ = kernels.targets_last(lam, order, op.qubits)
            m_conj = m.conj()
            ps = kernels.right_multiply(ps, m_conj)
            if i in by_index:
                g = torch.matmul(ls.conj().transpose(1, 2), ps)  # sum_R conj(lam_a) phi_c
                if m.shape[0] == 1:
                    g = g.sum(dim=0, keepdim=True)
                grads[i] = 2 * g.conj()
            ls = kernels.right_multiply(ls, m_conj)
            phi = ps.reshape((ps.shape[0],) + shape[1:])
            lam = ls.reshape((ls.shape[0],) + shape[1:])
            order = new_order
        return (None, *[grads.get(i) for i in run.parametric])


def _diag_cotangent(lam, phi, order, qubits, mbatch: int) -> torch.Tensor:
    prod = lam.conj() * phi
    keep = set(qubits)
    drop = [1 + a for a, q in enumerate(order) if q not in keep]
    red = prod.sum(dim=drop) if drop else prod
    in_state = [q for q in order if q in keep]
    msb_first = list(reversed(qubits))
    red = red.permute([0] + [1 + in_state.index(q) for q in msb_first]).reshape(red.shape[0], -1)
    if mbatch == 1:
        red = red.sum(dim=0, keepdim=True)
    return 2 * red.conj()


def _bound_ops(run: AdjointRun, mats) -> list[Op]:
    """Ops whose parametric tensors are replaced by the given (detached) matrices."""
    out = list(run.ops)
    for i, m in zip(run.parametric, mats, strict=True):
        op = run.ops[i]
        fixed = m.detach()
        out[i] = Op(op.kind, op.qubits, fn=lambda v, dt, dev, fixed=fixed: fixed)
    return out


def adjoint_expval(run: AdjointRun) -> torch.Tensor:
    """Expectation values ``(B, n_obs)`` whose backward pass uses the adjoint method."""
    mats = [run.ops[i].tensor(run.values, run.dtype, run.device) for i in run.parametric]
    return _Adjoint.apply(run, *mats)
