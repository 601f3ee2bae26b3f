"""Adjoint differentiation: gradients of expectation values with a few state vectors of memory.

Forward runs the circuit without storing intermediates. Backward starts from
``phi = psi`` and ``lam = H psi`` (``H = sum_k g_k O_k`` with the incoming
gradient ``g``), walks the steps in reverse undoing each on both, and for every
parametric step forms the matrix cotangent ``G = sum conj(lam) (x) phi``; torch's
autograd then carries ``G`` through fusion and the gate formulas to the parameters.
"""

from __future__ import annotations

import torch

from . import kernels
from .measure import PauliPlan
from .plan import Step
from .simulator import run_statevector


class AdjointRun:
    """Everything the autograd function needs besides the parametric step tensors."""

    def __init__(
        self,
        steps: list[Step],
        mats: list,
        n: int,
        batch: int,
        plan: PauliPlan,
        dtype,
        device,
        prefix: int = 0,
    ):
        self.steps, self.mats, self.n, self.batch, self.plan = steps, mats, n, batch, plan
        self.prefix = prefix
        self.dtype, self.device = dtype, device
        self.parametric = [i for i, m in enumerate(mats) if m is not None and m.requires_grad]


class _Adjoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, run: AdjointRun, *pmats: torch.Tensor) -> torch.Tensor:
        mats = list(run.mats)
        for i, m in zip(run.parametric, pmats, strict=True):
            mats[i] = m.detach()
        sim = run_statevector(
            run.steps, mats, None, run.n, run.batch, run.dtype, run.device, prefix=run.prefix
        )
        ctx.run = run
        ctx.mats = mats
        ctx.save_for_backward(sim.state)
        return run.plan.evaluate(sim.state)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        run: AdjointRun = ctx.run
        mats = ctx.mats
        (psi,) = ctx.saved_tensors
        n = run.n
        lam = run.plan.apply(psi, grad_out.to(psi.real.dtype))
        shape = (psi.shape[0],) + (2,) * n
        phi, lam = psi.reshape(shape), lam.reshape(shape)
        order = kernels.canonical_order(n)
        wanted = set(run.parametric)
        grads: dict[int, torch.Tensor] = {}
        for i in range(len(run.steps) - 1, -1, -1):
            step, m = run.steps[i], mats[i]
            kind = step.kind
            if kind == "perm":
                phi, _ = kernels.apply_perm(phi, order, step.op, inverse=True)
                lam, order = kernels.apply_perm(lam, order, step.op, inverse=True)
                continue
            if kind == "diag":
                phi, _ = kernels.apply_diag(phi, order, step.qubits, m.conj())
                if i in wanted:
                    grads[i] = _diag_cotangent(lam, phi, order, step.qubits, m.shape[0])
                lam, order = kernels.apply_diag(lam, order, step.qubits, m.conj())
                continue
            # dense: undo with M^dagger on both; the cotangent of M is conj(M) @ H with
            # H = sum conj(lam_prev) (x) phi_prev, both taken in the same layout
            m_dag = m.conj().transpose(1, 2)
            phi, new_order = kernels.apply_dense(phi, order, step.qubits, m_dag)
            lam, _ = kernels.apply_dense(lam, order, step.qubits, m_dag)
            order = new_order
            if i in wanted:
                g = torch.matmul(m.conj(), kernels.gram(lam, phi, order, step.qubits))
                if m.shape[0] == 1:
                    g = g.sum(dim=0, keepdim=True)
                grads[i] = 2 * g.conj()
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


def adjoint_expval(run: AdjointRun) -> torch.Tensor:
    """Expectation values ``(B, n_obs)`` whose backward pass uses the adjoint method."""
    return _Adjoint.apply(run, *[run.mats[i] for i in run.parametric])
