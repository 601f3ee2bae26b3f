"""Expectation values of a small QNN as one autograd node in real arithmetic.

The commonest QNN is an angle encoding (one RX or RY per qubit on |0>), shared weights, and
Z-type observables. Its product state has real magnitudes times constant phases
(``RX(a)|0> = cos(a/2)|0> - i sin(a/2)|1>``), so with the phases folded into the tail's
unitary the whole forward pass is real: magnitudes ``m = prod_q cos(a_q/2 - bit_q pi/2)``,
``[Re psi | Im psi] = m W`` and ``<O> = (psi_re^2 + psi_im^2) M``. That is a handful of
torch ops per step instead of dozens of complex ones; the tail's unitary and its gradient
come from :class:`UnitaryTail` (numpy), the encoding's derivative from a bit flip:
``dm/da_q = sign_q m[idx ^ 2^q] / 2``.

Used by the engine when the small program has a product head of this kind, a shared tail and
only diagonal observables; anything else keeps the general path.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .measure import PauliPlan, _sign_table
from .moments import const_matrix, leaves
from .plan import compound_runs
from .program import Op
from .unitary_tail import UnitaryTail, _regrad, _tail_torch

#: bit-1 amplitude phase of each encoding rotation on |0>
_PHASE = {"rx": -1j, "ry": 1.0}


class RealHead:
    """On each qubit, one RX / RY on a parameter column, or a constant single-qubit gate, or
    nothing, acting on |0...0>: the state's magnitudes are real functions of the columns."""

    def __init__(self, qubit_gate: dict[int, tuple[str, object]], n: int, n_cols: int):
        self.n, d = n, 1 << n
        idx = np.arange(d)
        cols, scale, offset, pattern = [], [], [], []
        phase = np.ones(d, dtype=np.complex128)
        active = []  # (qubit, column) of the column-driven rotations
        for q in range(n):
            bit = (idx >> q) & 1
            gate, arg = qubit_gate.get(q, ("const", np.eye(2)))
            if gate == "const":  # the column M|0>: constant magnitudes and phases
                col = np.asarray(arg)[:, 0]
                mag = np.abs(col)
                cols += [0, 0]
                scale += [0.0, 0.0]
                offset += list(np.arccos(np.clip(mag, 0.0, 1.0)))
                ph = np.where(mag > 0, col / np.where(mag > 0, mag, 1.0), 1.0)
            else:  # cos(a/2), sin(a/2) = cos(a/2 - pi/2); the bit-1 amplitude's phase
                cols += [arg, arg]
                scale += [0.5, 0.5]
                offset += [0.0, -math.pi / 2]
                ph = np.array([1.0, _PHASE[gate]])
                active.append((q, arg))
            pattern.append(2 * q + bit)
            phase = phase * ph[bit]
        self.cols, self.scale, self.offset = np.array(cols), np.array(scale), np.array(offset)
        self.pattern = np.concatenate(pattern)  # amplitude idx of qubit q <- entry 2q + bit_q(idx)
        self.phase = phase
        # derivative of m in each active rotation's angle: sign(bit) m[idx ^ 2^q] / 2
        flips = [idx ^ (1 << q) for q, _ in active]
        self.flip = np.concatenate(flips) if active else np.zeros(0, np.int64)
        signs = [np.where((idx >> q) & 1, 0.5, -0.5) for q, _ in active]
        self.sign = np.concatenate(signs) if active else None
        self.scatter = np.zeros((len(active), n_cols))
        for i, (_, col) in enumerate(active):
            self.scatter[i, col] += 1.0
        self._torch: dict = {}

    @classmethod
    def of(cls, ops: list[Op], n: int, n_cols: int) -> RealHead | None:
        """The head of ``ops`` (single-qubit ops before the tail), or None when it is not of
        this kind."""
        if n_cols == 0:
            return None
        ops, _ = compound_runs(ops, [False] * len(ops))
        seen: dict[int, tuple[str, object]] = {}
        for op in ops:
            if len(op.qubits) != 1 or op.qubits[0] in seen:
                return None
            parts = leaves(op)
            if all(leaf.gate is None and leaf.fn is None and leaf.const is not None for leaf in parts):
                m = np.eye(2, dtype=np.complex128)
                for leaf in parts:
                    m = const_matrix(leaf) @ m
                seen[op.qubits[0]] = ("const", m)
                continue
            leaf = parts[0]
            if len(parts) != 1 or leaf.gate not in _PHASE or len(leaf.args) != 1 or leaf.fn is not None:
                return None
            kind, value = leaf.args[0]
            if kind == "col":
                seen[op.qubits[0]] = (leaf.gate, value)
            else:
                half = 0.5 * float(value)
                gen = {"rx": np.array([[0, -1j], [-1j, 0]]), "ry": np.array([[0, -1], [1, 0]])}[leaf.gate]
                seen[op.qubits[0]] = ("const", math.cos(half) * np.eye(2) + math.sin(half) * gen)
        return cls(seen, n, n_cols)

    def tensors(self, real: torch.dtype, device) -> dict:
        key = (real, str(device))
        hit = self._torch.get(key)
        if hit is None:
            hit = {
                "cols": torch.as_tensor(self.cols, device=device),
                "scale": torch.as_tensor(self.scale, dtype=real, device=device),
                "offset": torch.as_tensor(self.offset, dtype=real, device=device),
                "pattern": torch.as_tensor(self.pattern, device=device),
                "flip": torch.as_tensor(self.flip, device=device),
                "sign": None if self.sign is None else torch.as_tensor(self.sign, dtype=real, device=device),
                "scatter": torch.as_tensor(self.scatter, dtype=real, device=device),
            }
            self._torch[key] = hit
        return hit

    def magnitudes(self, values: torch.Tensor) -> torch.Tensor:
        """``(B, 2^n)`` real amplitudes (the phases apart) for parameter rows ``(B, P)``."""
        t = self.tensors(values.dtype, values.device)
        c = torch.cos(torch.addcmul(t["offset"], torch.index_select(values, 1, t["cols"]), t["scale"]))
        return torch.index_select(c, 1, t["pattern"]).view(values.shape[0], self.n, -1).prod(dim=1)

    def gradient(self, mag: torch.Tensor, gmag: torch.Tensor) -> torch.Tensor:
        """``dL/d values`` ``(B, P)`` from ``gmag`` = dL/dm."""
        t = self.tensors(mag.dtype, mag.device)
        if t["sign"] is None:
            return mag.new_zeros(mag.shape[0], self.scatter.shape[1])
        dm = (torch.index_select(mag, 1, t["flip"]) * t["sign"]).view(mag.shape[0], -1, mag.shape[1])
        return torch.bmm(dm, gmag.unsqueeze(2)).squeeze(2) @ t["scatter"]


def diagonal_matrix(plan: PauliPlan) -> np.ndarray | None:
    """``M`` ``(2^n, k)`` with ``<O_k> = sum_c |psi_c|^2 M[c, k]``, or None when an observable
    has X or Y terms."""
    if any(x != 0 for x, *_ in plan.groups):
        return None
    m = np.zeros((1 << plan.n, plan.n_obs))
    for _, zs, cre, _ in plan.groups:
        m += _sign_table(plan.n, zs, torch.float64, "cpu").numpy() @ cre
    return m


class FusedExpval:
    """``values -> <O>`` for a :class:`RealHead`, a :class:`UnitaryTail` and diagonal ``M``."""

    def __init__(self, head: RealHead, tail: UnitaryTail, m: np.ndarray):
        self.head, self.tail = head, tail
        self.m2 = np.concatenate([m, m])  # rows for the real parts, then the imaginary parts
        self._torch: dict = {}

    def _m2(self, real, device) -> torch.Tensor:
        key = (real, str(device))
        if key not in self._torch:
            self._torch[key] = torch.as_tensor(self.m2, dtype=real, device=device)
        return self._torch[key]

    def weights(self, u: np.ndarray, real, device) -> torch.Tensor:
        """``W = [Re V | Im V]`` with ``V = diag(phase) U^T``: ``(2^n, 2^(n+1))``."""
        v = self.head.phase[:, None] * u.T
        return torch.from_numpy(np.concatenate([v.real, v.imag], axis=1)).to(dtype=real, device=device)

    def torch_ops(self, values: torch.Tensor, dtype) -> torch.Tensor:
        """The same in torch ops only (differentiable to any order)."""
        u = _tail_torch(self.tail, values[0], dtype)
        v = torch.as_tensor(self.head.phase, dtype=dtype, device=values.device)[:, None] * u.transpose(0, 1)
        ri = self.head.magnitudes(values) @ torch.cat([v.real, v.imag], dim=1)
        return (ri * ri) @ self._m2(values.dtype, values.device)

    def __call__(self, values: torch.Tensor, dtype) -> torch.Tensor:
        real = torch.float32 if dtype == torch.complex64 else torch.float64
        values = values.to(real)
        if torch.is_grad_enabled() and values.requires_grad:
            return _ExpvalFunction.apply(values, self, dtype)
        u, _ = self.tail.forward(values[0].detach().cpu().double().numpy())
        ri = self.head.magnitudes(values) @ self.weights(u, real, values.device)
        return (ri * ri) @ self._m2(real, values.device)


class _ExpvalFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, values, fused: FusedExpval, dtype):
        u, saved = fused.tail.forward(values[0].detach().cpu().double().numpy())
        w = fused.weights(u, values.dtype, values.device)
        mag = fused.head.magnitudes(values)
        ri = mag @ w
        ctx.save_for_backward(values)
        ctx.keep = (fused, dtype, saved, w, mag, ri)
        return (ri * ri) @ fused._m2(values.dtype, values.device)

    @staticmethod
    def backward(ctx, grad):
        fused, dtype, saved, w, mag, ri = ctx.keep
        if torch.is_grad_enabled():  # the backward is itself being differentiated
            (values,) = ctx.saved_tensors
            return _regrad(lambda v: fused.torch_ops(v, dtype), values, grad), None, None
        gri = (grad @ fused._m2(grad.dtype, grad.device).T).mul_(ri).mul_(2.0)
        out = fused.head.gradient(mag, gri @ w.T)
        gw = (mag.T @ gri).double().cpu().numpy()
        d = gw.shape[0]
        gv = gw[:, :d] + 1j * gw[:, d:]
        gu = (np.conj(fused.head.phase)[:, None] * gv).T
        gt = fused.tail.gradient(gu, saved, out.shape[1])
        out[0] += torch.from_numpy(gt).to(out)
        return out, None, None


def fused_expval(program, plan: PauliPlan, n_cols: int) -> FusedExpval | None:
    """The fused node for ``program`` (a ``SmallProgram``), ``plan`` and ``n_cols`` parameter
    columns, or None when the circuit or the observables are not of this kind (cached on the
    program)."""
    key = ("fused_expval", id(plan), n_cols)
    hit = program._cache.get(key)
    if hit is None:
        hit = (plan, None)
        m = diagonal_matrix(plan)
        if program.tail is not None and program.head is not None and m is not None:
            head = RealHead.of(program.head_ops, program.n, n_cols)
            if head is not None:
                hit = (plan, FusedExpval(head, program.tail, m))
        program._cache[key] = hit
    return hit[1]
