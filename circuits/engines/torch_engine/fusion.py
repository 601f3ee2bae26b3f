"""Fuse primitive ops into blocks of a few qubits, so each pass over the state does more work.

Greedy, dependency-safe: an op joins the most recently created block that owns
any of its qubits (or the newest block if none does) when the union stays within
the size limit; otherwise it opens a new block. Blocks run in creation order.
Blocks whose matrix varies per sample are kept smaller, because building a
per-sample ``d x d`` matrix costs ``B d^2`` per gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .program import NON_UNITARY, Op

MAX_PERM_QUBITS = 22  # full-register gather index arrays up to 2**22 entries
MAX_DIAG_QUBITS = 10


@dataclass
class Block:
    ops: list[Op]
    qubits: set[int]
    per_sample: bool
    sealed: bool = False
    extra: dict = field(default_factory=dict)


def fusion_limits(n: int, max_qubits: int | None = None) -> tuple[int, int]:
    """(limit for shared blocks, limit for per-sample blocks) on an ``n``-qubit register."""
    if max_qubits is None:  # wider blocks pay off once the state dwarfs the block matrix
        max_qubits = 5 if n >= 18 else 4
    shared = min(n, max_qubits)
    # measured on the hybrid-QNN layer (batch 256): per-sample blocks only pay off past 8 qubits
    per_sample = 1 if n <= 8 else max(1, min(shared, (n - 4) // 2))
    return shared, per_sample


def fuse_blocks(ops: list[Op], per_sample: list[bool], limits: tuple[int, int]) -> list[Block]:
    """Group unitary ops into blocks; non-unitary ops become sealed single-op blocks."""
    k_shared, k_sample = limits
    blocks: list[Block] = []
    owner: dict[int, int] = {}
    for op, ps in zip(ops, per_sample, strict=True):
        qs = set(op.qubits)
        if op.kind in NON_UNITARY:
            blocks.append(Block([op], qs, False, sealed=True))
            for q in qs:
                owner[q] = len(blocks) - 1
            continue
        cands = [owner[q] for q in qs if q in owner]
        target = max(cands) if cands else (len(blocks) - 1 if blocks else None)
        if target is not None and not blocks[target].sealed:
            b = blocks[target]
            union = b.qubits | qs
            merged = b.per_sample or ps
            if len(union) <= (k_sample if merged else k_shared):
                b.ops.append(op)
                b.qubits = union
                b.per_sample = merged
                for q in qs:
                    owner[q] = target
                continue
        blocks.append(Block([op], qs, ps))
        for q in qs:
            owner[q] = len(blocks) - 1
    return blocks


# ---------------------------------------------------------------------------------------------
# constant helpers: monomials over the full register, and diagonals over a union of qubits
# ---------------------------------------------------------------------------------------------
def monomial_on_register(qubits: tuple[int, ...], m: np.ndarray, n: int):
    """For a monomial gate: (source index f, phase) over the register, out[i] = ph[i] in[f[i]]."""
    idx = np.arange(1 << n, dtype=np.int64)
    sub_out = np.zeros_like(idx)
    for j, q in enumerate(qubits):
        sub_out |= ((idx >> q) & 1) << j
    sigma = np.argmax(m != 0, axis=1)
    ph = m[np.arange(m.shape[0]), sigma]
    sub_in = sigma[sub_out]
    src = idx.copy()
    for j, q in enumerate(qubits):
        src &= ~(1 << q)
        src |= ((sub_in >> j) & 1) << q
    return src, ph[sub_out]


def perm_op(parts: list[tuple[tuple[int, ...], np.ndarray]], n: int) -> Op:
    """One gather op equal to applying the monomial ``parts`` in order."""
    src = np.arange(1 << n, dtype=np.int64)
    phase = np.ones(1 << n, dtype=np.complex128)
    for qubits, m in parts:
        f, ph = monomial_on_register(qubits, m, n)
        src = src[f]
        phase = ph * phase[f]
    qs = tuple(sorted({q for qubits, _ in parts for q in qubits}))
    trivial = np.allclose(phase, 1.0)
    return Op("perm", qs, const=None if trivial else phase, perm=src)


def local_gather(union: tuple[int, ...], qubits: tuple[int, ...]) -> np.ndarray:
    """For each index over ``union`` (bit j = union[j]), the index over ``qubits``."""
    pos = {q: j for j, q in enumerate(union)}
    sub = np.arange(1 << len(union))
    local = np.zeros_like(sub)
    for j, q in enumerate(qubits):
        local |= ((sub >> pos[q]) & 1) << j
    return local
