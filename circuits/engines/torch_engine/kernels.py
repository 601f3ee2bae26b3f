"""State-vector kernels: apply dense, diagonal and permutation ops to a batched state.

The state is a tensor ``(B, 2, ..., 2)`` whose qubit axes are in a tracked
``order`` (axis ``a+1`` holds qubit ``order[a]``). Ops leave their target axes
last instead of moving them back, so a run of gates pays one transpose at most.
Everything here is plain torch and therefore differentiable by autograd.
"""

from __future__ import annotations

import numpy as np
import torch

Order = tuple[int, ...]


def canonical_order(n: int) -> Order:
    """Qubit ``n-1`` first: the flat index is Qiskit's little-endian basis index."""
    return tuple(range(n - 1, -1, -1))


def targets_first(psi: torch.Tensor, order: Order, qubits: tuple[int, ...]):
    """View ``psi`` as ``(B, 2**k, R)`` with ``qubits`` (MSB = last qubit) as the middle axis.

    Returns the view and the layout the result of a left multiplication will have
    (targets first). No copy is made when the targets are already first or last.
    """
    n = len(order)
    k = len(qubits)
    d = 1 << k
    target = tuple(reversed(qubits))  # most significant bit first
    batch = psi.shape[0]
    if order[:k] == target:
        return psi.reshape(batch, d, -1), order
    rest = tuple(q for q in order if q not in target)
    if order[n - k:] == target:
        return psi.reshape(batch, -1, d).transpose(1, 2), target + rest
    axes = [0] + [1 + order.index(q) for q in target + rest]
    return psi.permute(axes).reshape(batch, d, -1), target + rest


def apply_dense(psi: torch.Tensor, order: Order, qubits: tuple[int, ...], m: torch.Tensor):
    """Apply ``m`` (``(B|1, d, d)``, index bit j = ``qubits[j]``) to ``psi``; return (psi, order)."""
    s, new_order = targets_first(psi, order, qubits)
    out = torch.matmul(m, s)
    return out.reshape((out.shape[0],) + (2,) * len(order)), new_order


def _diag_view(diag: torch.Tensor, order: Order, qubits: tuple[int, ...]) -> torch.Tensor:
    k = len(qubits)
    msb_first = tuple(reversed(qubits))
    in_state = sorted(qubits, key=order.index)
    t = diag.reshape((diag.shape[0],) + (2,) * k)
    if k > 1:
        t = t.permute([0] + [1 + msb_first.index(q) for q in in_state])
    qs = set(qubits)
    return t.reshape((diag.shape[0],) + tuple(2 if q in qs else 1 for q in order))


def apply_diag(psi: torch.Tensor, order: Order, qubits: tuple[int, ...], diag: torch.Tensor):
    """Multiply by a diagonal ``(B|1, 2**k)`` on ``qubits``."""
    return psi * _diag_view(diag, order, qubits), order


def layout_index(order: Order) -> np.ndarray:
    """Flat position in this layout of each canonical basis index."""
    n = len(order)
    idx = np.arange(1 << n, dtype=np.int64)
    pos = np.zeros_like(idx)
    for a, q in enumerate(order):
        pos |= ((idx >> q) & 1) << (n - 1 - a)
    return pos


def perm_for_layout(src: np.ndarray, phase: np.ndarray | None, order: Order):
    """Translate a canonical gather ``out[i] = ph[i] * in[src[i]]`` into this layout."""
    lmap = layout_index(order)
    idx = np.empty_like(src)
    idx[lmap] = lmap[src]
    ph = None
    if phase is not None:
        ph = np.empty_like(phase)
        ph[lmap] = phase
    return idx, ph


def apply_perm(psi: torch.Tensor, order: Order, op, inverse: bool = False):
    """Apply a fused permutation op (gather with optional phases) in the current layout."""
    key = ("perm", order, inverse, psi.device, psi.dtype)
    cached = op.cache.get(key)
    if cached is None:
        idx, ph = perm_for_layout(op.perm, op.const, order)
        if inverse:  # in[j] = conj(ph[inv[j]]) * out[inv[j]]
            inv = np.empty_like(idx)
            inv[idx] = np.arange(idx.size)
            ph = None if ph is None else np.conj(ph)[inv]
            idx = inv
        cached = (
            torch.as_tensor(idx, device=psi.device),
            None if ph is None else torch.as_tensor(ph, dtype=psi.dtype, device=psi.device),
        )
        op.cache[key] = cached
    idx_t, ph_t = cached
    shape = psi.shape
    flat = psi.reshape(shape[0], -1)
    out = flat.index_select(1, idx_t)
    if ph_t is not None:
        out = out * ph_t
    return out.reshape(shape), order


def to_canonical(psi: torch.Tensor, order: Order) -> torch.Tensor:
    """Return the flat ``(B, 2**n)`` state in Qiskit's basis order."""
    n = len(order)
    target = canonical_order(n)
    if order != target:
        psi = psi.permute([0] + [1 + order.index(q) for q in target])
    return psi.reshape(psi.shape[0], -1)
