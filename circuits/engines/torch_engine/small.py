"""The small-register path: few, large kernels for circuits of up to ``MAX_QUBITS`` qubits.

At small ``n`` the generic plan's cost is per-op overhead (hundreds of tiny torch ops per
step), not arithmetic. Here the circuit becomes a short list of *moments*:

* ``kron``: single-qubit gates on distinct qubits. The register is cut into a few contiguous
  qubit groups (one group up to ``GROUP_QUBITS`` qubits); each group's factors become one
  ``2^k x 2^k`` Kronecker product, applied to the batch as one matrix product. All factors of
  the whole circuit are evaluated in one bulk call per gate name, and all Kronecker products
  of one shape are built together, so the op count does not grow with the number of gates.
* ``perm``: constant monomial gates (CNOT, CZ, SWAP, X, ...) merged into one gather with phases.
* ``generic``: any other multi-qubit gate, applied with the generic kernels.

A leading ``kron`` moment acting on ``|0...0>`` is a product state, built from columns.
Weights shared by the batch give ``(1, d, d)`` matrices (built once per call); per-sample
weights (QFWP) give ``(B, d, d)`` matrices and batched products. Everything is plain torch,
so autograd differentiates it; results equal the generic path's up to rounding.
"""

from __future__ import annotations

import numpy as np
import torch

from . import gates, kernels
from .fusion import perm_op
from .moments import const_matrix, kron_factors, leaves, schedule
from .plan import compound_runs
from .program import Op
from .simulator import Simulation
from .unitary_tail import ProductHead, UnitaryTail, fused_state, product_head, split

#: registers up to this many qubits take this path (faster than the generic plan at every n
#: measured up to 14: benchmarks/perf_small.py, benchmarks/results/perf_small.md)
MAX_QUBITS = 16
#: bulk key of the RX / RY / RZ leaves, evaluated together as cos(a/2) I + sin(a/2) (-i P)
ROTATION = "@rotation"
_PAULI = {
    "rx": np.array([[0, -1j], [-1j, 0]]),
    "ry": np.array([[0, -1], [1, 0]], dtype=np.complex128),
    "rz": np.array([[-1j, 0], [0, 1j]]),
}
#: largest qubit group of one Kronecker product (a ``2^k x 2^k`` matrix per group)
GROUP_QUBITS = 5
_UNITARY = ("dense", "diag", "monomial")


def applies(body: list[Op], n: int) -> bool:
    """Whether this path can run ``body`` (unitary ops only) on ``n`` qubits."""
    return 0 < n <= MAX_QUBITS and all(op.kind in _UNITARY or op.kind == "phase" for op in body)


def groups_of(n: int) -> list[tuple[int, int]]:
    """Contiguous qubit groups ``(first qubit, size)`` of about equal size, low qubits first."""
    count = -(-n // GROUP_QUBITS)
    sizes = [n // count + (1 if i < n % count else 0) for i in range(count)]
    out, start = [], 0
    for k in sizes:
        out.append((start, k))
        start += k
    return out


class SmallProgram:
    """One circuit body, scheduled into moments for one pattern of per-sample parameters."""

    def __init__(self, ops: list[Op], n: int, varying: set[int], batch_one: bool):
        self.n = n
        ps_of = (lambda op: False) if batch_one else (lambda op: bool(op.deps & varying))
        self.phases = [(op, ps_of(op)) for op in ops if op.kind == "phase"]
        body = [op for op in ops if op.kind != "phase"]
        flags = [ps_of(op) for op in body]
        cut = split(body, flags, n)  # the shared tail becomes one unitary node
        self.tail = UnitaryTail(body[cut:], n) if cut < len(body) else None
        # a product-state head and the tail: the whole simulation is one node
        self.head = ProductHead(body[:cut], n) if self.tail and product_head(body[:cut]) else None
        self.head_ops = body[:cut] if self.head else []
        body, flags = compound_runs(body[:cut], flags[:cut])
        self.moments, self.factors = schedule(body, flags)
        for m in self.moments:
            if m.kind == "perm":
                m.perm = perm_op(m.parts, n)
        # leaves evaluated in bulk: (gate name, per-sample) -> [leaf]
        self.bulk: dict[tuple[str, bool], list[Op]] = {}
        self.slot: dict[int, tuple[tuple[str, bool], int]] = {}
        for fop, _ in self.factors:
            for leaf in leaves(fop):
                if leaf.gate is not None and leaf.gate != "@kron":
                    key = (ROTATION if leaf.gate in _PAULI else leaf.gate, ps_of(leaf))
                    self.slot[id(leaf)] = (key, len(self.bulk.setdefault(key, [])))
                    self.bulk[key].append(leaf)
        self.ps_of = ps_of
        consts = sorted(
            {a[1] for ls in self.bulk.values() for leaf in ls for a in leaf.args if a[0] == "const"}
        )
        self.consts = np.array(consts, dtype=np.float64)
        cidx = {c: i for i, c in enumerate(consts)}
        self.paulis = {  # per rotation leaf: its generator's matrix -i P / 2 ... as (cos, sin) parts
            key: torch.as_tensor(np.stack([_PAULI[leaf.gate] for leaf in ls]))
            for key, ls in self.bulk.items()
            if key[0] == ROTATION
        }
        self.cols = {
            key: np.array(
                [[a[1] if a[0] == "col" else -1 - cidx[a[1]] for a in leaf.args] for leaf in ls],
                dtype=np.int64,
            ).reshape(len(ls), -1)
            for key, ls in self.bulk.items()
        }
        # chains: factors whose leaves all come from bulk tables, grouped by signature
        chains: dict[tuple, list[int]] = {}
        self.single: list[int] = []
        for i, (fop, ps) in enumerate(self.factors):
            parts = leaves(fop)
            if fop.parametric and all(id(leaf) in self.slot for leaf in parts):
                sig = tuple(self.slot[id(leaf)][0] for leaf in parts)
                chains.setdefault((sig, ps), []).append(i)
            else:
                self.single.append(i)
        self.chains = [
            (
                sig,
                ps,
                members,
                [
                    np.array([self.slot[id(leaves(self.factors[i][0])[p])][1] for i in members])
                    for p in range(len(sig))
                ],
            )
            for (sig, ps), members in chains.items()
        ]
        self.groups = groups_of(n)
        # passes over the batch of states (for the memory check): one per group of a kron
        # moment, one per perm or generic moment
        self.passes = sum(len(self.groups) if m.kind == "kron" else 1 for m in self.moments)
        self._cache: dict = {}
        self.real = self._all_real()

    def _all_real(self) -> bool:
        """Whether every moment is a real matrix (RY rotations, real constant gates and signed
        permutations only; no tail, global phase or generic moment): the state is then real and
        runs in real arithmetic (QFWP's H / RY / CNOT circuits), half the work of complex. A
        shared tail after them is applied in complex."""
        if self.phases or any(m.kind == "generic" for m in self.moments):
            return False
        if any(key[0] != ROTATION or any(leaf.gate != "ry" for leaf in ls) for key, ls in self.bulk.items()):
            return False
        for i in self.single:
            for leaf in leaves(self.factors[i][0]):
                if leaf.parametric and leaf.gate != "ry" or not leaf.parametric and _imaginary(leaf):
                    return False
        for m in self.moments:
            if m.kind == "perm" and m.perm.const is not None and np.abs(np.imag(m.perm.const)).max() > 0:
                return False
        return True

    # -------------------------------------------------------------------------------- binding
    def _factor_tables(self, values: torch.Tensor, dtype, device):
        """All single-qubit factors as ``(1, Ts, 2, 2)`` (shared) and ``(B, Tp, 2, 2)``, and
        each factor's (per-sample?, index)."""
        real = values.dtype
        n_par = values.shape[1]
        consts = torch.as_tensor(self.consts, dtype=real, device=device).unsqueeze(0)
        ext = torch.cat([values, consts.expand(values.shape[0], -1)], dim=1) if len(self.consts) else values
        outs = {}
        for key, cols in self.cols.items():
            name, ps = key
            src = ext if ps else ext[:1]
            idx = np.where(cols >= 0, cols, n_par + (-1 - cols))
            args = [src[:, torch.as_tensor(idx[:, a], device=device)] for a in range(idx.shape[1])]
            if name == ROTATION:
                outs[key] = self._rotations(key, args[0], dtype, device)
            else:
                outs[key] = gates.PARAMETRIC[name][1](args, dtype, device)
        pieces: dict[bool, list[tuple[list[int], torch.Tensor]]] = {False: [], True: []}
        for sig, ps, members, slots in self.chains:
            acc = None
            for key, idx in zip(sig, slots, strict=True):
                t = outs[key]
                if t.shape[1] != len(idx) or (idx != np.arange(len(idx))).any():
                    t = t.index_select(1, torch.as_tensor(idx, device=device))
                acc = _compose(acc, t, key[0] != ROTATION and gates.PARAMETRIC[key[0]][0])
            pieces[ps].append((members, acc))
        const_members = [i for i in self.single if not self.factors[i][0].parametric]
        if const_members:
            key = ("const", dtype, str(device))
            t = self._cache.get(key)
            if t is None:
                mats = np.stack([const_matrix(self.factors[i][0]) for i in const_members])
                mats = mats if dtype.is_complex else mats.real
                t = torch.as_tensor(mats, dtype=dtype, device=device).unsqueeze(0)
                self._cache[key] = t
            pieces[False].append((const_members, t))
        for i in self.single:
            fop, ps = self.factors[i]
            if not fop.parametric:
                continue
            acc = None
            for leaf in leaves(fop):
                v = values if self.ps_of(leaf) else values[:1]
                acc = _compose(acc, leaf.tensor(v, dtype, device).unsqueeze(1), leaf.kind == "diag")
            pieces[ps].append(([i], acc))
        where: dict[int, tuple[bool, int]] = {}
        tables = {}
        eye = self._eye(dtype, device).reshape(1, 1, 2, 2)
        shared_parts = [eye] + [t for _, t in pieces[False]]
        pos = 1
        for members, _t in pieces[False]:
            for j, i in enumerate(members):
                where[i] = (False, pos + j)
            pos += len(members)
        tables[False] = torch.cat(shared_parts, dim=1) if len(shared_parts) > 1 else eye
        if pieces[True]:
            batch = values.shape[0]
            ps_parts = [tables[False].expand(batch, -1, -1, -1)] + [
                t.expand(batch, -1, -1, -1) for _, t in pieces[True]
            ]
            for members, _t in pieces[True]:
                for j, i in enumerate(members):
                    where[i] = (True, pos + j)
                pos += len(members)
            tables[True] = torch.cat(ps_parts, dim=1)
        return tables, where

    def _rotations(self, key, angles: torch.Tensor, dtype, device) -> torch.Tensor:
        """``exp(-i a P / 2) = cos(a/2) I - i sin(a/2) P`` for every RX/RY/RZ leaf at once."""
        ck = ("paulis", key, dtype, str(device))
        gen = self._cache.get(ck)
        if gen is None:
            gen = self.paulis[key]
            gen = (gen if dtype.is_complex else gen.real).to(dtype=dtype, device=device)
            self._cache[ck] = gen
        half = angles * 0.5
        shape = half.shape + (1, 1)
        eye = self._eye(dtype, device)
        return torch.cos(half).reshape(shape) * eye + torch.sin(half).reshape(shape) * gen

    def _eye(self, dtype, device) -> torch.Tensor:
        """The 2x2 identity (cached: ``torch.eye`` costs tens of microseconds per call)."""
        key = ("eye", dtype, str(device))
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = torch.eye(2, dtype=dtype, device=device)
        return hit

    def _kron_plan(self, where):
        """Per kron moment: its groups as (first qubit, size, per-sample, factor indices low qubit
        first); None for other moments."""
        out = []
        for m in self.moments:
            if m.kind != "kron":
                out.append(None)
                continue
            apps = []
            for start, k in self.groups:
                qs = [q for q in range(start, start + k) if q in m.factors]
                if not qs:
                    continue
                ps = any(where[m.factors[q]][0] for q in qs)
                idx = [where[m.factors[q]][1] if q in m.factors else 0 for q in range(start, start + k)]
                apps.append((start, k, ps, idx))
            out.append(apps)
        return out

    def run(self, values: torch.Tensor, batch: int, dtype, device, real_ok: bool = False) -> Simulation:
        """The final canonical state ``(batch, 2**n)``; with ``real_ok`` a real circuit's state
        stays real (expectation values need no complex copy)."""
        n = self.n
        if self.head is not None:
            psi = fused_state(values, self.head, self.tail, dtype)
            return self._finish(psi, values, batch, dtype, device)
        out_dtype = dtype
        if self.real:  # real gates only: real arithmetic, complex at the end
            dtype = values.dtype
        tables, where = self._factor_tables(values, dtype, device)
        key = ("kron", tuple(sorted(where.items())))
        kplan = self._cache.get(key)
        if kplan is None:
            kplan = self._kron_plan(where)
            self._cache[key] = kplan
        # all Kronecker products of one (per-sample, size) built together
        wanted: dict[tuple[bool, int], list[list[int]]] = {}
        slot: dict[tuple[int, int], tuple[tuple[bool, int], int]] = {}
        for mi, apps in enumerate(kplan):
            if apps is None or mi == 0:  # a leading kron moment is built as a product state
                continue
            for gi, (_, k, ps, idx) in enumerate(apps):
                lst = wanted.setdefault((ps, k), [])
                slot[(mi, gi)] = ((ps, k), len(lst))
                lst.append(idx)  # factor 0 = lowest qubit
        krons = {}
        for (ps, k), lists in wanted.items():
            f = tables[ps][:, torch.as_tensor(lists, device=device)]  # (Bx, A, k, 2, 2)
            krons[(ps, k)] = kron_factors(f).unbind(1)
        psi = None
        for mi, m in enumerate(self.moments):
            if m.kind == "kron":
                if mi == 0:
                    psi = self._product_state(tables, kplan[0], device)
                    continue
                for gi, (start, k, _, _) in enumerate(kplan[mi]):
                    key2, j = slot[(mi, gi)]
                    psi = _apply_group(psi, krons[key2][j], start, k, n)
            elif m.kind == "perm":
                psi = self._initial(psi, dtype, device)
                psi = _apply_perm(psi, m.perm, dtype, device)
            else:
                psi = self._initial(psi, dtype, device)
                v = values if m.per_sample else values[:1]
                t = m.op.tensor(v, dtype, device)
                shaped = psi.reshape((psi.shape[0],) + (2,) * n)
                order = kernels.canonical_order(n)
                if m.op.kind == "diag":
                    shaped, order = kernels.apply_diag(shaped, order, m.op.qubits, t)
                else:
                    shaped, order = kernels.apply_dense(shaped, order, m.op.qubits, t)
                psi = kernels.to_canonical(shaped, order)
        psi = self._initial(psi, dtype, device)
        if not real_ok or self.tail is not None:
            psi = psi.to(out_dtype)
        if self.tail is not None:
            psi = psi @ self.tail.unitary(values[0], out_dtype, device).transpose(0, 1)
        return self._finish(psi, values, batch, psi.dtype, device)

    def _finish(self, psi, values, batch, dtype, device) -> Simulation:
        """Global phases applied, broadcast to ``batch``."""
        for op, ps in self.phases:
            psi = psi * op.tensor(values if ps else values[:1], dtype, device).reshape(-1, 1)
        if psi.shape[0] != batch:
            psi = psi.expand(batch, -1)
        return Simulation(psi, False, None, self.n)

    def _initial(self, psi, dtype, device):
        if psi is not None:
            return psi
        out = torch.zeros(1, 1 << self.n, dtype=dtype, device=device)
        out[0, 0] = 1.0
        return out

    def _product_state(self, tables, apps, device) -> torch.Tensor:
        """``kron`` of the first columns of the leading moment's factors: the state it makes
        from ``|0...0>``."""
        idx = [0] * self.n
        ps = False
        for start, k, p, gidx in apps:
            idx[start : start + k] = gidx
            ps |= p
        cols = tables[ps][:, torch.as_tensor(idx, device=device), :, 0]  # (Bx, n, 2), qubit order
        cols = cols.unbind(1)
        psi = cols[0]
        for col in cols[1:]:
            psi = (col.unsqueeze(2) * psi.unsqueeze(1)).reshape(col.shape[0], -1)
        return psi


def _imaginary(op: Op) -> bool:
    """Whether a constant op's matrix has an imaginary part."""
    return bool(np.abs(np.imag(const_matrix(op))).max() > 0)


def _compose(acc, t, diagonal: bool):
    """``t @ acc`` for ``(Bx, G, 2, 2)`` matrices, ``t`` possibly a diagonal ``(Bx, G, 2)``."""
    if diagonal:
        return torch.diag_embed(t) if acc is None else t.unsqueeze(-1) * acc
    return t if acc is None else torch.matmul(t, acc)


def _apply_group(psi: torch.Tensor, a: torch.Tensor, start: int, k: int, n: int) -> torch.Tensor:
    """``a`` (``(Bx, d, d)``, index bit j = qubit ``start + j``) applied to canonical ``psi``."""
    bp, bx = psi.shape[0], a.shape[0]
    batch = max(bp, bx)
    d = 1 << k
    left, right = 1 << (n - start - k), 1 << start
    if right == 1:
        if bx == 1:
            out = psi.reshape(-1, d) @ a[0].transpose(0, 1)
        else:
            out = torch.matmul(psi.reshape(bp, left, d), a.transpose(1, 2))
    elif left == 1:
        out = torch.matmul(a, psi.reshape(bp, d, right))
    else:
        out = torch.matmul(a.unsqueeze(1), psi.reshape(bp, left, d, right))
    return out.reshape(batch, -1)


def _apply_perm(psi: torch.Tensor, op: Op, dtype, device) -> torch.Tensor:
    key = ("small", dtype, str(device))
    hit = op.cache.get(key)
    if hit is None:
        hit = (
            torch.as_tensor(op.perm, device=device),
            None
            if op.const is None
            else torch.as_tensor(
                op.const if dtype.is_complex else np.real(op.const), dtype=dtype, device=device
            ),
        )
        op.cache[key] = hit
    idx, ph = hit
    out = psi.index_select(1, idx)
    return out if ph is None else out * ph


def program_for(compiled, values: torch.Tensor, shared) -> SmallProgram:
    """The (cached) small program of ``compiled`` for this batch's per-sample pattern."""
    if values.shape[0] == 1:
        varying: frozenset = frozenset()
    else:
        varying = frozenset(j for j in range(values.shape[1]) if shared is None or not shared[j])
    key = ("small", varying, values.shape[0] == 1)
    prog = compiled.plans.get(key)
    if prog is None:
        prog = SmallProgram(compiled.body, compiled.n_qubits, set(varying), values.shape[0] == 1)
        if len(compiled.plans) > 16:
            compiled.plans.pop(next(iter(compiled.plans)))
        compiled.plans[key] = prog
    return prog
