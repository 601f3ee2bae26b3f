"""A small circuit's shared tail as one ``2^n x 2^n`` unitary, and its product-state head, as
one autograd node with a hand-written backward.

A QNN is usually a per-sample encoding followed by weights shared by the batch. On a few
qubits the cost of that is per-op overhead (dozens of tiny autograd nodes), not arithmetic.
Here the tail becomes one unitary ``U``: every rotation, Kronecker moment and their product is
built in numpy without autograd. When the head is a product state (single-qubit gates only),
``psi = U psi0(x)`` is the whole simulation in one node.

The backward walks the moments once in reverse (``W_m = Q_m^H G P_{m-1}^H``) and reads each
angle's derivative from the shift rule ``dR(a)/da = R(a + pi) / 2`` of ``R(a) = exp(-i a P/2)``:
a shifted factor ``f'`` changes a Kronecker moment by ``(f' f^H)`` on its qubit, so its
derivative is ``Re tr((f' f^H) rho_q) / 2`` with ``rho_q`` the partial trace of ``K W^H`` on
that qubit; a product state's by contracting the gradient with the other qubits' columns.

Only RX / RY / RZ (numeric or one parameter column each), constant single-qubit gates and
constant monomials (CNOT, CZ, SWAP, ...) join; ``split`` stops at anything else.
"""

from __future__ import annotations

import math
import string

import numpy as np
import torch

from .fusion import perm_op
from .moments import const_matrix, kron_factors, leaves, schedule
from .plan import compound_runs
from .program import Op

#: the tail is used up to this many qubits (one Kronecker group: ``small.GROUP_QUBITS``)
TAIL_QUBITS = 5
_EYE = np.eye(2, dtype=np.complex128)
_PAULI = {
    "rx": np.array([[0, 1], [1, 0]], dtype=np.complex128),
    "ry": np.array([[0, -1j], [1j, 0]]),
    "rz": np.array([[1, 0], [0, -1]], dtype=np.complex128),
}


def _leaf_ok(leaf: Op) -> bool:
    if leaf.gate is not None:
        return leaf.gate in _PAULI and len(leaf.args) == 1
    return leaf.fn is None and leaf.const is not None


def _single(op: Op) -> bool:
    return (
        op.kind in ("dense", "diag", "monomial")
        and len(op.qubits) == 1
        and all(_leaf_ok(leaf) for leaf in leaves(op))
    )


def _supported(op: Op) -> bool:
    if len(op.qubits) == 1:
        return _single(op)
    return op.kind in ("monomial", "diag") and not op.parametric


def split(body: list[Op], per_sample: list[bool], n: int) -> int:
    """Where the tail starts: the longest suffix of ``body`` that is shared and supported
    (``len(body)`` when there is none or ``n`` is too large)."""
    i = len(body)
    if n > TAIL_QUBITS:
        return i
    while i > 0 and not per_sample[i - 1] and _supported(body[i - 1]):
        i -= 1
    return i


def product_head(ops: list[Op]) -> bool:
    """Whether ``ops`` (the part before the tail) make a product state this module can build."""
    return all(_single(op) for op in ops)


class Chains:
    """Single-qubit factors, each a chain of rotation and constant leaves, evaluated in bulk;
    every rotation on a parameter column is also evaluated at ``a + pi`` (its shifted factor)."""

    def __init__(self, factor_ops: list[Op]):
        consts = [_EYE]  # table entry 0: the identity
        rot: list[tuple[str, tuple]] = []
        chains = []
        for fop in factor_ops:
            chain = []
            for leaf in leaves(fop):
                if leaf.gate is not None:
                    chain.append(("r", len(rot)))
                    rot.append((leaf.gate, leaf.args[0]))
                else:
                    chain.append(("c", len(consts)))
                    consts.append(const_matrix(leaf))
            chains.append(chain)
        self.n_factors = len(chains)
        self.rot_cols = np.array([a[1] if a[0] == "col" else 0 for _, a in rot], dtype=np.int64)
        self.is_col = np.array([a[0] == "col" for _, a in rot], dtype=bool)
        self.rot_const = np.array([0.0 if a[0] == "col" else float(a[1]) for _, a in rot])
        self.shift_src = np.flatnonzero(self.is_col)
        self.shift_cols = self.rot_cols[self.shift_src]
        n_c, n_r = len(consts), len(rot)
        width = max((len(c) for c in chains), default=1)
        rows, owner = [], {}
        for t, chain in enumerate(chains):
            rows.append([i if k == "c" else n_c + i for k, i in chain] + [0] * (width - len(chain)))
            for p, (k, i) in enumerate(chain):
                if k == "r":
                    owner[i] = (t, p)
        self.shift_factor = np.array([owner[r][0] for r in self.shift_src], dtype=np.int64)
        for j, r in enumerate(self.shift_src):
            t, p = owner[r]
            row = list(rows[t])
            row[p] = n_c + n_r + j
            rows.append(row)
        self.chain_index = np.array(rows, dtype=np.int64).reshape(len(rows), width)
        self.consts = np.stack(consts)
        gens = [-1j * _PAULI[g] for g, _ in rot] + [-1j * _PAULI[rot[r][0]] for r in self.shift_src]
        self.generators = np.stack(gens) if gens else np.zeros((0, 2, 2), dtype=np.complex128)
        self._scatter: dict[int, np.ndarray] = {}
        self._torch_cache: dict = {}

    def evaluate(self, values: np.ndarray) -> np.ndarray:
        """``(R, T + S, 2, 2)``: the factors, then the shifted ones, for parameter rows ``(R, P)``."""
        a = np.where(self.is_col, values[:, self.rot_cols], self.rot_const)
        half = 0.5 * np.concatenate([a, a[:, self.shift_src] + math.pi], axis=1)[..., None, None]
        n_c = len(self.consts)
        table = np.empty((len(values), n_c + half.shape[1], 2, 2), dtype=np.complex128)
        table[:, :n_c] = self.consts
        table[:, n_c:] = np.cos(half) * _EYE + np.sin(half) * self.generators
        chain = self.chain_index
        f = table[:, chain[:, 0]]
        for p in range(1, chain.shape[1]):
            f = table[:, chain[:, p]] @ f
        return f

    def _torch(self, dtype, device) -> dict:
        key = (dtype, str(device))
        hit = self._torch_cache.get(key)
        if hit is None:
            real = torch.float32 if dtype == torch.complex64 else torch.float64
            hit = {
                "real": real,
                "rot_cols": torch.as_tensor(self.rot_cols, device=device),
                "is_col": torch.as_tensor(self.is_col, device=device),
                "rot_const": torch.as_tensor(self.rot_const, dtype=real, device=device),
                "shift_src": torch.as_tensor(self.shift_src, device=device),
                "consts": torch.as_tensor(self.consts, dtype=dtype, device=device),
                "gens": torch.as_tensor(self.generators, dtype=dtype, device=device),
                "eye": torch.eye(2, dtype=dtype, device=device),
                "chain": torch.as_tensor(self.chain_index, device=device),
            }
            self._torch_cache[key] = hit
        return hit

    def evaluate_torch(self, values: torch.Tensor, dtype) -> torch.Tensor:
        """``evaluate`` in torch, in the complex ``dtype`` (for a batch of rows: torch's
        elementwise kernels beat numpy's there)."""
        t = self._torch(dtype, values.device)
        values = values.to(t["real"])
        a = torch.where(t["is_col"], values[:, t["rot_cols"]], t["rot_const"])
        half = (0.5 * torch.cat([a, a[:, t["shift_src"]] + math.pi], dim=1))[..., None, None]
        rots = torch.cos(half) * t["eye"] + torch.sin(half) * t["gens"]
        table = torch.cat([t["consts"].expand(len(values), -1, -1, -1), rots], dim=1)
        chain = t["chain"]
        f = table[:, chain[:, 0]]
        for p in range(1, chain.shape[1]):
            f = table[:, chain[:, p]] @ f
        return f

    def scatter_torch(self, g: torch.Tensor, size: int) -> torch.Tensor:
        """``scatter`` in torch."""
        key = (size, g.dtype, str(g.device))
        m = self._scatter.get(key)
        if m is None:
            m = self.scatter(np.eye(len(self.shift_cols)), size)
            m = torch.as_tensor(m, dtype=g.dtype, device=g.device)
            self._scatter[key] = m
        return g @ m

    def scatter(self, g: np.ndarray, size: int) -> np.ndarray:
        """Per-rotation derivatives ``(R, S)`` summed into parameter columns: ``(R, size)``."""
        hit = self._scatter.get(size)
        if hit is None:
            hit = np.zeros((len(self.shift_cols), size))
            hit[np.arange(len(self.shift_cols)), self.shift_cols] = 1.0
            self._scatter[size] = hit
        return g @ hit


class UnitaryTail:
    """The tail ``ops`` (shared, supported) on ``n`` qubits, scheduled into moments."""

    def __init__(self, ops: list[Op], n: int):
        self.n = n
        ops, flags = compound_runs(ops, [False] * len(ops))
        moments, factors = schedule(ops, flags)
        self.chains = Chains([f for f, _ in factors])
        krows, self.steps, where = [], [], {}
        for m in moments:
            if m.kind == "kron":
                for q, t in m.factors.items():
                    where[t] = (len(krows), q)
                self.steps.append(("kron", len(krows)))
                krows.append([1 + m.factors[q] if q in m.factors else 0 for q in range(n)])
            else:
                self.steps.append(("perm", perm_op(m.parts, n)))
        self.n_kron = len(krows)
        self.kron_index = np.array(krows, dtype=np.int64).reshape(len(krows), n)
        self.shift_moment = np.array([where[t][0] for t in self.chains.shift_factor], dtype=np.int64)
        self.shift_qubit = np.array([where[t][1] for t in self.chains.shift_factor], dtype=np.int64)
        rows, cols = string.ascii_letters[:n], string.ascii_letters[n : 2 * n]
        # partial trace keeping qubit q (row / column axis n - 1 - q) of (K, 2,..,2, 2,..,2)
        self.traces = []
        for q in range(n):
            axis = n - 1 - q
            c = rows[:axis] + cols[axis] + rows[axis + 1 :]
            self.traces.append(f"Z{rows}{c}->Z{rows[axis]}{cols[axis]}")

    def factors(self, row: np.ndarray) -> np.ndarray:
        return self.chains.evaluate(row[None])[0]

    def kron_matrices(self, f: np.ndarray) -> np.ndarray:
        """Every kron moment's matrix ``(K, d, d)`` from the factors ``f``."""
        return kron_factors(np.concatenate([_EYE[None], f[: self.chains.n_factors]])[self.kron_index])

    def product(self, krons: np.ndarray, before: list | None = None) -> np.ndarray:
        """The tail's unitary; ``before`` collects the product ahead of each kron moment."""
        x = None
        for step in self.steps:
            if step[0] == "kron":
                if before is not None:
                    before.append(x)
                x = krons[step[1]] if x is None else krons[step[1]] @ x
            else:
                x = np.eye(1 << self.n, dtype=np.complex128) if x is None else x
                x = x[step[1].perm]
                if step[1].const is not None:
                    x = x * step[1].const[:, None]
        return np.eye(1 << self.n, dtype=np.complex128) if x is None else x

    def forward(self, row: np.ndarray) -> tuple[np.ndarray, tuple]:
        """``U`` and what ``gradient`` needs."""
        f = self.factors(row)
        krons = self.kron_matrices(f)
        before: list = []
        return self.product(krons, before), (f, krons, before)

    def gradient(self, grad: np.ndarray, saved: tuple, size: int) -> np.ndarray:
        """``dL/d row`` ``(size,)`` from ``grad`` = dL/dU (torch's convention for complex)."""
        f, krons, before = saved
        lam, w, i = grad, [None] * self.n_kron, len(before)
        for step in reversed(self.steps):
            if step[0] == "kron":
                i -= 1
                w[step[1]] = lam if before[i] is None else lam @ before[i].conj().T
                lam = krons[step[1]].conj().T @ lam
            else:
                src = lam if step[1].const is None else lam * step[1].const.conj()[:, None]
                lam = np.empty_like(lam)
                lam[step[1].perm] = src
        ch = self.chains
        if not len(ch.shift_cols):
            return np.zeros(size)
        v = (krons @ np.stack(w).conj().transpose(0, 2, 1)).reshape((self.n_kron,) + (2,) * (2 * self.n))
        rho = np.stack([np.einsum(s, v) for s in self.traces], axis=1)  # (K, n, 2, 2)
        shifted = f[ch.n_factors :] @ f[ch.shift_factor].conj().transpose(0, 2, 1)  # f' f^H
        r = rho[self.shift_moment, self.shift_qubit]
        g = 0.5 * np.einsum("sab,sba->s", shifted, r).real
        return ch.scatter(g[None], size)[0]

    def unitary(self, row: torch.Tensor, dtype, device) -> torch.Tensor:
        """The tail's unitary ``(d, d)`` for the parameter row ``(P,)``; differentiable in ``row``."""
        if torch.is_grad_enabled() and row.requires_grad:
            return _TailFunction.apply(row, self, dtype)
        u, _ = self.forward(row.detach().cpu().double().numpy())
        return torch.from_numpy(u).to(dtype=dtype, device=device)


class ProductHead:
    """A head of single-qubit gates only: the product state ``psi0 (B, 2^n)`` it makes from
    ``|0...0>``, for per-sample parameters."""

    def __init__(self, ops: list[Op], n: int):
        self.n = n
        ops, _ = compound_runs(ops, [False] * len(ops))
        self.qubit = np.array([op.qubits[0] for op in ops], dtype=np.int64)
        self.chains = Chains(ops)
        ch = self.chains
        # rows into (|0>, factors, shifted factors): per qubit, its factor's column or |0>
        base = [0] * n
        for t, q in enumerate(self.qubit):
            base[q] = 1 + t
        rows = [base]
        for j, t in enumerate(ch.shift_factor):
            row = list(base)
            row[self.qubit[t]] = 1 + ch.n_factors + j
            rows.append(row)
        self.rows = torch.as_tensor(np.array(rows, dtype=np.int64).reshape(len(rows), n))
        self._zeros: dict = {}
        # one rotation per qubit (an angle encoding): columns straight from the angles
        n_c = len(ch.consts)
        self.simple = ch.chain_index.shape[1] == 1 and bool((ch.chain_index[:, 0] >= n_c).all())
        if self.simple:
            order = np.concatenate(
                [ch.chain_index[: ch.n_factors, 0] - n_c, len(ch.rot_cols) + np.arange(len(ch.shift_src))]
            )
            self.order = None if (order == np.arange(len(order))).all() else torch.as_tensor(order)

    def columns(self, values: torch.Tensor, dtype) -> torch.Tensor:
        """``(B, 1 + T + S, 2)``: ``|0>``, each factor's column ``f |0>``, each shifted factor's."""
        ch = self.chains
        if not self.simple:
            f = ch.evaluate_torch(values, dtype)[:, :, :, 0]
        else:
            t = ch._torch(dtype, values.device)
            a = torch.where(t["is_col"], values.to(t["real"])[:, t["rot_cols"]], t["rot_const"])
            half = (0.5 * torch.cat([a, a[:, t["shift_src"]] + math.pi], dim=1))[..., None]
            f = torch.cos(half) * t["eye"][:, 0] + torch.sin(half) * t["gens"][:, :, 0]
            if self.order is not None:
                f = f[:, self.order]
        return torch.cat([self._zero(f.dtype, f.device).expand(f.shape[0], 1, 2), f], dim=1)

    def states(self, table: torch.Tensor, shifted: bool = True) -> torch.Tensor:
        """``(B, 1 + S, d)`` from ``columns``: the product state, then (if ``shifted``) for each
        shifted rotation the product state with its qubit's column shifted (``2 d psi0 / d a``)."""
        b, n = table.shape[0], self.n
        cols = table[:, self.rows if shifted else self.rows[:1]]  # (B, 1 + S, n, 2)
        psi = cols[:, :, 0]
        for q in range(1, n):
            psi = (cols[:, :, q, :, None] * psi[:, :, None, :]).reshape(b, cols.shape[1], -1)
        return psi

    def _zero(self, dtype, device) -> torch.Tensor:
        key = (dtype, str(device))
        hit = self._zeros.get(key)
        if hit is None:
            hit = torch.tensor([[[1.0, 0.0]]], dtype=dtype, device=device)  # the column |0>
            self._zeros[key] = hit
        return hit

    def gradient(self, g0: torch.Tensor, states: torch.Tensor, size: int) -> torch.Tensor:
        """``dL/d values`` ``(B, size)`` from ``g0`` = dL/dpsi0 ``(B, d)``."""
        if not len(self.chains.shift_cols):
            return torch.zeros((len(g0), size), dtype=g0.real.dtype, device=g0.device)
        g = 0.5 * (g0.conj()[:, None, :] * states[:, 1:]).sum(dim=2).real  # (B, S)
        return self.chains.scatter_torch(g, size)


def _tail_torch(tail: UnitaryTail, row: torch.Tensor, dtype) -> torch.Tensor:
    """The tail's unitary in torch ops (differentiable to any order: the path taken when a
    backward itself builds a graph)."""
    f = tail.chains.evaluate_torch(row[None], dtype)[0]
    eye = torch.eye(2, dtype=dtype, device=row.device)
    krons = kron_factors(torch.cat([eye[None], f[: tail.chains.n_factors]])[torch.as_tensor(tail.kron_index)])
    x = torch.eye(1 << tail.n, dtype=dtype, device=row.device)
    for step in tail.steps:
        if step[0] == "kron":
            x = krons[step[1]] @ x
        else:
            x = x[torch.as_tensor(step[1].perm, device=row.device)]
            if step[1].const is not None:
                x = x * torch.as_tensor(step[1].const, dtype=dtype, device=row.device)[:, None]
    return x


def _circuit_torch(values: torch.Tensor, head: ProductHead, tail: UnitaryTail, dtype) -> torch.Tensor:
    """``fused_state`` in torch ops (differentiable to any order)."""
    f = head.chains.evaluate_torch(values, dtype)[:, :, :, 0]
    table = torch.cat([head._zero(dtype, values.device).expand(f.shape[0], 1, 2), f], dim=1)
    return head.states(table, False)[:, 0] @ _tail_torch(tail, values[0], dtype).transpose(0, 1)


def _regrad(fn, inputs: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """``grad``'s vector-Jacobian product through ``fn(inputs)`` recomputed with autograd, for
    a backward that builds a graph (``create_graph=True``: gradient penalties, attacks that
    differentiate a gradient)."""
    with torch.enable_grad():
        out = fn(inputs)
    if not out.requires_grad:  # nothing in it depends on the inputs (constant gates only)
        return torch.zeros_like(inputs)
    (g,) = torch.autograd.grad(out, inputs, grad, create_graph=True, allow_unused=True)
    return torch.zeros_like(inputs) if g is None else g


class _TailFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, row, tail: UnitaryTail, dtype):
        u, saved = tail.forward(row.detach().cpu().double().numpy())
        ctx.save_for_backward(row)
        ctx.tail, ctx.saved, ctx.meta = tail, saved, (row.shape[0], row.dtype, row.device, dtype)
        return torch.from_numpy(u).to(dtype=dtype, device=row.device)

    @staticmethod
    def backward(ctx, grad):
        size, real, device, dtype = ctx.meta
        if torch.is_grad_enabled():  # the backward is itself being differentiated
            (row,) = ctx.saved_tensors
            return _regrad(lambda r: _tail_torch(ctx.tail, r, dtype), row, grad), None, None
        g = ctx.tail.gradient(grad.detach().cpu().numpy().astype(np.complex128), ctx.saved, size)
        return torch.from_numpy(g).to(dtype=real, device=device), None, None


class _CircuitFunction(torch.autograd.Function):
    """``psi = psi0(values) @ U(values[0])^T``: the whole small circuit as one node."""

    @staticmethod
    def forward(ctx, values, head: ProductHead, tail: UnitaryTail, dtype):
        states, u, saved = _fused(values.detach(), head, tail, dtype, True)
        ctx.save_for_backward(values)
        ctx.keep = (head, tail, states, u, saved, values.shape, values.dtype, dtype)
        return states[:, 0] @ u.transpose(0, 1)

    @staticmethod
    def backward(ctx, grad):
        head, tail, states, u, saved, shape, real, dtype = ctx.keep
        if torch.is_grad_enabled():  # the backward is itself being differentiated
            (values,) = ctx.saved_tensors
            g = _regrad(lambda v: _circuit_torch(v, head, tail, dtype), values, grad)
            return g, None, None, None
        out = head.gradient(grad @ u.conj(), states, shape[1])
        gu = (grad.transpose(0, 1) @ states[:, 0].conj()).cpu().numpy().astype(np.complex128)
        out[0] += torch.from_numpy(tail.gradient(gu, saved, shape[1])).to(out)
        return out.to(real), None, None, None


def _fused(values: torch.Tensor, head: ProductHead, tail: UnitaryTail, dtype, shifted: bool = False):
    states = head.states(head.columns(values, dtype), shifted)
    u, saved = tail.forward(values[0].cpu().double().numpy())
    return states, torch.from_numpy(u).to(dtype=dtype, device=values.device), saved


def fused_state(values: torch.Tensor, head: ProductHead, tail: UnitaryTail, dtype) -> torch.Tensor:
    """The state ``(B, d)`` of a product-state head followed by the shared tail."""
    if torch.is_grad_enabled() and values.requires_grad:
        return _CircuitFunction.apply(values, head, tail, dtype)
    states, u, _ = _fused(values, head, tail, dtype)
    return states[:, 0] @ u.transpose(0, 1)
