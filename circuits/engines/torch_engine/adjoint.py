"""Adjoint differentiation: gradients of expectation values with a few state vectors of memory.

Forward runs the circuit without storing intermediates. Backward starts from
``phi = psi`` and ``lam = H psi`` (``H = sum_k g_k O_k`` with the incoming
gradient ``g``), walks the steps in reverse undoing each on both, and for every
parametric step forms the matrix cotangent ``G = sum conj(lam) (x) phi``; torch's
autograd then carries ``G`` through fusion and the gate formulas to the parameters.
``phi`` and ``lam`` live in one ``(2B, ...)`` tensor so each step is undone in one kernel call;
a single observable's ``H psi`` comes from one gather over a cached table.
"""

from __future__ import annotations

import weakref

import numpy as np
import torch

from . import kernels
from .measure import PauliPlan
from .plan import Step
from .simulator import run_statevector

#: batch x amplitudes up to which the adjoint method runs gate by gate (no fused blocks): there
#: binding a fused block costs more than the passes it saves (12 qubits, 100 parameters, batch 1:
#: 19.7 ms against 22.1 ms CPU; at 16 qubits or batch 4 fused blocks win)
SINGLE_GATE_AMPLITUDES = 1 << 12

#: largest gather table (bytes) of a single observable kept for ``apply_hamiltonian``
TABLE_BYTES = 64 << 20
_tables: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _hamiltonian_table(plan: PauliPlan, dtype, device):
    """``(src, factor)`` with ``(H psi)[c] = sum_g factor[g, c] psi[src[g, c]]`` for the one
    observable of ``plan`` (one row per group of terms sharing an X-mask), or None if too big."""
    per_plan = _tables.setdefault(plan, {})
    key = (dtype, str(device))
    if key not in per_plan:
        dim = 1 << plan.n
        if len(plan.groups) * dim * 24 > TABLE_BYTES:
            per_plan[key] = None
        else:
            c = np.arange(dim, dtype=np.int64)
            src = np.stack([c ^ x for x, *_ in plan.groups])
            fac = np.zeros((len(plan.groups), dim), dtype=np.complex128)
            for g, (_, zs, cre, cim) in enumerate(plan.groups):
                signs = 1.0 - 2.0 * (np.bitwise_count(c[:, None] & zs[None, :]) & 1)  # (dim, T)
                fac[g] = signs @ (cre[:, 0] - 1j * cim[:, 0])
            per_plan[key] = (
                torch.as_tensor(src.reshape(-1), device=device),
                torch.as_tensor(fac, dtype=dtype, device=device),
            )
    return per_plan[key]


def apply_hamiltonian(plan: PauliPlan, psi: torch.Tensor) -> torch.Tensor:
    """``H |psi>`` for the single observable ``H`` of ``plan`` on canonical flat states ``(B, 2**n)``:
    one gather over a cached table instead of a pass per group of terms."""
    table = _hamiltonian_table(plan, psi.dtype, psi.device)
    if table is None:
        ones = torch.ones(psi.shape[0], 1, dtype=psi.real.dtype, device=psi.device)
        return plan.apply(psi, ones)
    src, fac = table
    gathered = psi.index_select(1, src).reshape(psi.shape[0], *fac.shape)
    return (gathered * fac).sum(dim=1)


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
        psi = sim.state
        if run.plan.n_obs == 1:  # H psi serves the value now and lam = g H psi in backward
            h_psi = apply_hamiltonian(run.plan, psi)
            ctx.save_for_backward(psi, h_psi)
            return (psi.conj() * h_psi).sum(dim=1, keepdim=True).real
        ctx.save_for_backward(psi)
        return run.plan.evaluate(psi)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        run: AdjointRun = ctx.run
        mats = ctx.mats
        psi = ctx.saved_tensors[0]
        n = run.n
        b = psi.shape[0]
        if len(ctx.saved_tensors) == 2:
            lam = grad_out.to(psi.real.dtype) * ctx.saved_tensors[1]
        else:
            lam = run.plan.apply(psi, grad_out.to(psi.real.dtype))
        # phi (rows :b) and lam (rows b:) in one tensor: each step undoes both in one kernel call
        both = torch.cat([psi, lam]).reshape((2 * b,) + (2,) * n)
        order = kernels.canonical_order(n)
        wanted = set(run.parametric)
        grads: dict[int, torch.Tensor] = {}
        for i in range(len(run.steps) - 1, -1, -1):
            step, m = run.steps[i], mats[i]
            kind = step.kind
            if kind == "perm":
                both, order = kernels.apply_perm(both, order, step.op, inverse=True)
                continue
            undo = m.conj() if kind == "diag" else m.conj().transpose(1, 2)
            if undo.shape[0] != 1:
                undo = torch.cat([undo, undo])
            if kind == "diag":
                both, order = kernels.apply_diag(both, order, step.qubits, undo)
                if i in wanted:  # conj(lam) phi_prev with lam = m * lam_prev (|m| = 1)
                    grads[i] = m * _diag_cotangent(both[b:], both[:b], order, step.qubits, m.shape[0])
                continue
            # dense: undo with M^dagger on both; the cotangent of M is conj(M) @ H with
            # H = sum conj(lam_prev) (x) phi_prev, both taken in the same layout
            both, order = kernels.apply_dense(both, order, step.qubits, undo)
            if i in wanted:
                g = torch.matmul(m.conj(), kernels.gram(both[b:], both[:b], order, step.qubits))
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
