"""An execution plan: fused steps for one circuit and one pattern of per-sample parameters,
and ``bind`` that turns parameter values into every step's tensor in a few bulk torch calls."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import gates, kernels
from .fusion import (
    MAX_DIAG_QUBITS,
    MAX_PERM_QUBITS,
    Block,
    fuse_blocks,
    local_gather,
    perm_op,
)
from .program import Op


@dataclass
class Step:
    """One pass over the state. ``source`` says how ``bind`` builds its tensor:
    ("const", array), ("op", op), ("block", ops), ("diags", [(op, gather)]), or None."""

    kind: str
    qubits: tuple[int, ...]
    source: tuple | None = None
    op: Op | None = None  # the gather op of a "perm" step; the original op of a non-unitary step
    per_sample: bool = False
    parts: list | None = None  # monomial parts of a perm step, to merge neighbours


def _is_const(op: Op) -> bool:
    return not op.parametric


def _block_matrix_const(ops: list[Op], qubits: tuple[int, ...]) -> np.ndarray:
    t = _choi(ops, qubits, lambda op: op.tensor(None, torch.complex128, "cpu"), torch.complex128, "cpu")
    return t[0].numpy()


def _choi(ops, qubits, tensor_of, dtype, device) -> torch.Tensor:
    """Matrix ``(B, d, d)`` of ``ops`` on ``qubits`` (bit j = qubits[j]), by applying them to
    the unnormalised maximally entangled state ``sum_c |c>|c>`` on 2k qubits."""
    k = len(qubits)
    d = 1 << k
    local = {q: j for j, q in enumerate(qubits)}
    state = torch.zeros(d * d, dtype=dtype, device=device)
    state[torch.arange(d, device=device) * (d + 1)] = 1.0
    psi = state.reshape((1,) + (2,) * (2 * k))
    order = kernels.canonical_order(2 * k)
    for op in ops:
        lq = tuple(local[q] for q in op.qubits)
        t = tensor_of(op)
        if op.kind == "diag":
            psi, order = kernels.apply_diag(psi, order, lq, t)
        else:
            psi, order = kernels.apply_dense(psi, order, lq, t)
    flat = kernels.to_canonical(psi, order)
    return flat.reshape(-1, d, d).transpose(1, 2)


def _realise(block: Block, n: int, density: bool) -> Step:
    ops = block.ops
    qubits = tuple(sorted(block.qubits))
    if block.sealed:
        op = ops[0]
        return Step(op.kind, op.qubits, op=op)
    if len(ops) == 1:
        op = ops[0]
        if op.kind == "monomial":
            if not density and n <= MAX_PERM_QUBITS:
                p = perm_op([(op.qubits, op.const)], n)
                return Step("perm", p.qubits, op=p, parts=[(op.qubits, op.const)])
            return Step("dense", op.qubits, source=("const", op.const))
        if _is_const(op):
            return Step(op.kind, op.qubits, source=("const", op.const))
        return Step(op.kind, op.qubits, source=("op", op), per_sample=block.per_sample)
    if all(op.kind == "monomial" for op in ops) and not density and n <= MAX_PERM_QUBITS:
        parts = [(op.qubits, op.const) for op in ops]
        p = perm_op(parts, n)
        return Step("perm", p.qubits, op=p, parts=parts)
    if all(op.kind == "diag" for op in ops):
        return _diag_step([(op, op.qubits) for op in ops], qubits, block.per_sample)
    if all(_is_const(op) for op in ops):
        return Step(
            "dense", qubits, source=("const", _block_matrix_const([_as_dense(op) for op in ops], qubits))
        )
    ops = _merge_kron_runs(_merge_const_runs([_as_dense(op) for op in ops]))
    return Step("dense", qubits, source=("block", ops), per_sample=block.per_sample)


def _merge_runs(ops: list[Op], joins, combine) -> list[Op]:
    """Replace each maximal run of ops that ``joins(op, run)`` accepts (two or more long)
    by ``combine(run)``; other ops pass through in order."""
    out: list[Op] = []
    run: list[Op] = []
    for op in ops + [None]:
        if op is not None and joins(op, run):
            run.append(op)
            continue
        if len(run) > 1:
            out.append(combine(run))
        else:
            out.extend(run)
        run = []
        if op is not None:
            if joins(op, run):
                run.append(op)
            else:
                out.append(op)
    return out


def _merge_const_runs(ops: list[Op]) -> list[Op]:
    """Within a block, replace each run of constant ops by one constant op."""

    def combine(run):
        qs = tuple(sorted({q for o in run for q in o.qubits}))
        return Op("dense", qs, const=_block_matrix_const(run, qs))

    return _merge_runs(ops, lambda op, run: not op.parametric, combine)


def _merge_kron_runs(ops: list[Op]) -> list[Op]:
    """Within a block, fuse neighbouring parametric single-qubit ops on distinct qubits into
    one Kronecker-product op, so the block costs fewer passes."""

    def joins(op, run):
        return (
            op.parametric
            and len(op.qubits) == 1
            and op.kind in ("dense", "diag")
            and all(op.qubits[0] != o.qubits[0] for o in run)
            and len(run) < 5
        )

    def combine(run):
        members = tuple(sorted(run, key=lambda o: o.qubits[0]))
        return Op(
            "dense",
            tuple(o.qubits[0] for o in members),
            parts=members,
            deps=frozenset().union(*(o.deps for o in members)),
            gate="@kron",
        )

    return _merge_runs(ops, joins, combine)


def kron_einsum(mats: list[torch.Tensor]) -> torch.Tensor:
    """``mats[k-1] (x) ... (x) mats[0]`` for ``(B|1, 2, 2)`` factors, by broadcasting."""
    acc = mats[0]
    for m in mats[1:]:
        d = acc.shape[-1]
        batch = max(acc.shape[0], m.shape[0])
        acc = (m[:, :, None, :, None] * acc[:, None, :, None, :]).reshape(batch, 2 * d, 2 * d)
    return acc


def _as_dense(op: Op) -> Op:
    return Op("dense", op.qubits, const=op.const) if op.kind == "monomial" else op


def _diag_step(parts: list[tuple[Op, tuple]], qubits: tuple[int, ...], per_sample: bool) -> Step:
    gathers = [(op, local_gather(qubits, q)) for op, q in parts]
    if all(_is_const(op) for op, _ in gathers):
        d = np.ones(1 << len(qubits), dtype=np.complex128)
        for op, g in gathers:
            d = d * op.const[g]
        return Step("diag", qubits, source=("const", d))
    return Step("diag", qubits, source=("diags", gathers), per_sample=per_sample)


def _diag_parts(step: Step) -> list[tuple[Op, tuple]]:
    """The (op, qubits) factors of a diagonal step, for merging it with a neighbour."""
    src = step.source
    if src[0] == "const":
        return [(Op("diag", step.qubits, const=src[1]), step.qubits)]
    if src[0] == "op":
        return [(src[1], src[1].qubits)]
    return [(op, op.qubits) for op, _ in src[1]]


def _merge_neighbours(steps: list[Step], n: int) -> list[Step]:
    out: list[Step] = []
    for s in steps:
        prev = out[-1] if out else None
        if prev is not None and prev.kind == "perm" and s.kind == "perm":
            parts = prev.parts + s.parts
            p = perm_op(parts, n)
            out[-1] = Step("perm", p.qubits, op=p, parts=parts)
            continue
        if (
            prev is not None
            and prev.kind == "diag"
            and s.kind == "diag"
            and len(set(prev.qubits) | set(s.qubits)) <= MAX_DIAG_QUBITS
        ):
            qubits = tuple(sorted(set(prev.qubits) | set(s.qubits)))
            out[-1] = _diag_step(_diag_parts(prev) + _diag_parts(s), qubits, prev.per_sample or s.per_sample)
            continue
        out.append(s)
    return out


def _compose_const(parts: list[Op]) -> np.ndarray:
    m = np.eye(2, dtype=np.complex128)
    for p in parts:
        m = (np.diag(p.const) if p.kind == "diag" else p.const) @ m
    return m


def compound_runs(ops: list[Op], per_sample: list[bool]) -> tuple[list[Op], list[bool]]:
    """Merge each maximal run of single-qubit unitaries on a qubit into one compound op,
    placed where the run starts (valid: nothing else touches the qubit in between)."""
    out: list = []
    open_run: dict[int, list] = {}
    for op, ps in zip(ops, per_sample, strict=True):
        if op.kind in ("dense", "diag", "monomial") and len(op.qubits) == 1:
            q = op.qubits[0]
            if q in open_run:
                open_run[q].append((op, ps))
            else:
                run = [(op, ps)]
                open_run[q] = run
                out.append(run)
            continue
        for q in op.qubits:
            open_run.pop(q, None)
        out.append((op, ps))
    new_ops, new_ps = [], []
    for item in out:
        if isinstance(item, tuple):
            new_ops.append(item[0])
            new_ps.append(item[1])
            continue
        if len(item) == 1:
            new_ops.append(item[0][0])
            new_ps.append(item[0][1])
            continue
        parts = [_as_dense(o) if o.kind == "monomial" else o for o, _ in item]
        kind = "diag" if all(p.kind == "diag" for p in parts) else "dense"
        qubits = parts[0].qubits
        if not any(p.parametric for p in parts):
            m = _compose_const(parts)
            const = np.diag(m).copy() if kind == "diag" else m
            new_ops.append(Op(kind, qubits, const=const))
            new_ps.append(False)
            continue
        deps = frozenset().union(*(p.deps for p in parts))
        new_ops.append(Op(kind, qubits, parts=tuple(parts), deps=deps))
        new_ps.append(any(ps for _, ps in item))
    return new_ops, new_ps


def _product_prefix(steps: list[Step]) -> int:
    """How many leading steps are single-qubit gates on distinct qubits: applied to |0...0>
    they give a product state, built directly instead of pass by pass."""
    seen: set[int] = set()
    k = 0
    for s in steps:
        if s.kind not in ("dense", "diag") or len(s.qubits) != 1 or s.qubits[0] in seen:
            break
        seen.add(s.qubits[0])
        k += 1
    return k if k >= 2 else 0


class Plan:
    """Steps plus the bulk evaluation tables for one (circuit, per-sample pattern, mode)."""

    def __init__(self, ops: list[Op], n: int, per_sample: list[bool], limits: tuple[int, int], density: bool):
        self.n = n
        self.phases = [(op, ps) for op, ps in zip(ops, per_sample, strict=True) if op.kind == "phase"]
        body = [(op, ps) for op, ps in zip(ops, per_sample, strict=True) if op.kind != "phase"]
        body_ops, body_ps = compound_runs([o for o, _ in body], [p for _, p in body])
        blocks = fuse_blocks(body_ops, body_ps, limits)
        self.steps = _merge_neighbours([_realise(b, n, density) for b in blocks], n)
        self.prefix = 0 if density else _product_prefix(self.steps)
        self._per_sample = {id(op): ps for op, ps in zip(ops, per_sample, strict=True)}
        self._per_sample.update({id(op): ps for op, ps in zip(body_ops, body_ps, strict=True)})
        self._build_tables()
        self._const_cache: dict = {}

    def _build_tables(self) -> None:
        """Group every bulk-evaluable gate by (name, per-sample) for one call per group, and
        every compound single-qubit op by (gate sequence, per-sample) for one chain product."""
        groups: dict[tuple[str, bool], list[Op]] = {}
        for op in self._all_ops():
            if op.gate is not None:
                groups.setdefault((op.gate, self._per_sample.get(id(op), True)), []).append(op)
        consts = sorted({a[1] for ops in groups.values() for op in ops for a in op.args if a[0] == "const"})
        self.consts = np.array(consts, dtype=np.float64)
        cidx = {c: i for i, c in enumerate(consts)}
        self.tables = []
        self.slot: dict[int, tuple[int, int]] = {}
        for (name, ps), ops in groups.items():
            n_args = len(ops[0].args)
            cols = np.array(
                [[a[1] if a[0] == "col" else -1 - cidx[a[1]] for a in op.args] for op in ops],
                dtype=np.int64,
            ).reshape(len(ops), n_args)
            gi = len(self.tables)
            self.tables.append((name, ps, cols))
            for j, op in enumerate(ops):
                self.slot[id(op)] = (gi, j)
        chains: dict[tuple, list[Op]] = {}
        for op in self._compounds():
            if all(p.gate is not None for p in op.parts):
                sig = tuple((p.gate, self.slot[id(p)][0]) for p in op.parts)
                chains.setdefault((sig, self._per_sample.get(id(op), True)), []).append(op)
        self.chains = []
        self.chain_slot: dict[int, tuple[int, int]] = {}
        for (sig, _), members in chains.items():
            slots = [np.array([self.slot[id(m.parts[j])][1] for m in members]) for j in range(len(sig))]
            ci = len(self.chains)
            self.chains.append((sig, slots))
            for j, m in enumerate(members):
                self.chain_slot[id(m)] = (ci, j)

    def _all_ops(self):
        def walk(op):
            if op.parts:
                for p in op.parts:
                    yield from walk(p)
            else:
                yield op

        for op in self._top_ops():
            yield from walk(op)

    def _compounds(self):
        """Compound single-qubit ops, also those inside Kronecker groups."""
        for op in self._top_ops():
            if op.gate == "@kron":
                yield from (p for p in op.parts if p.parts)
            elif op.parts:
                yield op

    def _top_ops(self):
        for op, _ in self.phases:
            yield op
        for s in self.steps:
            src = s.source
            if src is None:
                continue
            if src[0] == "op":
                yield src[1]
            elif src[0] == "block":
                yield from src[1]
            elif src[0] == "diags":
                for op, _ in src[1]:
                    yield op

    def bind(self, values: torch.Tensor, dtype, device):
        """Tensors for every step (None for gathers and non-unitary steps) and the global phase."""
        real = values.dtype
        n_par = values.shape[1]
        consts = torch.as_tensor(self.consts, dtype=real, device=device).unsqueeze(0)
        ext = torch.cat([values, consts.expand(values.shape[0], -1)], dim=1)
        ext_shared = ext[:1]
        outs = []
        for name, ps, cols in self.tables:
            src = ext if ps else ext_shared
            idx = np.where(cols >= 0, cols, n_par + (-1 - cols))
            args = [src[:, torch.as_tensor(idx[:, a], device=device)] for a in range(idx.shape[1])]
            outs.append(gates.PARAMETRIC[name][1](args, dtype, device))

        chain_outs = []
        for sig, slots in self.chains:
            acc = None
            all_diag = all(gates.PARAMETRIC[name][0] for name, _ in sig)
            for (name, gi), idx in zip(sig, slots, strict=True):
                t = outs[gi][:, torch.as_tensor(idx, device=device)]
                if all_diag:
                    acc = t if acc is None else acc * t
                    continue
                if gates.PARAMETRIC[name][0]:
                    t = torch.diag_embed(t)
                acc = t if acc is None else torch.matmul(t, acc)
            chain_outs.append(acc)

        def tensor_of(op: Op) -> torch.Tensor:
            if op.gate == "@kron":
                mats = []
                for p in op.parts:
                    t = tensor_of(p)
                    mats.append(torch.diag_embed(t) if p.kind == "diag" else t)
                return kron_einsum(mats)
            hit = self.slot.get(id(op))
            if hit is not None:
                return outs[hit[0]][:, hit[1]]
            hit = self.chain_slot.get(id(op))
            if hit is not None:
                return chain_outs[hit[0]][:, hit[1]]
            if op.parts:
                acc = None
                for p in op.parts:
                    t = tensor_of(p)
                    if op.kind == "diag":
                        acc = t if acc is None else acc * t
                        continue
                    t = torch.diag_embed(t) if p.kind == "diag" else t
                    acc = t if acc is None else torch.matmul(t, acc)
                return acc
            if not op.parametric:
                return op.tensor(values, dtype, device)
            v = values if self._per_sample.get(id(op), True) else values[:1]
            return op.tensor(v, dtype, device)

        mats: list[torch.Tensor | None] = []
        for s in self.steps:
            src = s.source
            if src is None:
                mats.append(None)
            elif src[0] == "const":
                key = (id(s), dtype, str(device))
                t = self._const_cache.get(key)
                if t is None:
                    t = torch.tensor(np.array(src[1]), dtype=dtype, device=device).unsqueeze(0)
                    self._const_cache[key] = t
                mats.append(t)
            elif src[0] == "op":
                mats.append(tensor_of(src[1]))
            elif src[0] == "block":
                mats.append(_choi(src[1], s.qubits, tensor_of, dtype, device))
            else:
                acc = None
                for op, g in src[1]:
                    t = tensor_of(op)[:, torch.as_tensor(g, device=device)]
                    acc = t if acc is None else acc * t
                mats.append(acc)
        phase = None
        for op, _ in self.phases:
            t = tensor_of(op).reshape(-1)
            phase = t if phase is None else phase * t
        return mats, phase
