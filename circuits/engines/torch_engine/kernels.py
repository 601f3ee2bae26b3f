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


MIDDLE_MIN = 8  # apply in place on (B, L, d, R) when R >= this; otherwise move targets


def _find(order: Order, target: tuple[int, ...]) -> int | None:
    k = len(target)
    for a in range(len(order) - k + 1):
        if order[a : a + k] == target:
            return a
    return None


def dense_mode(order: Order, qubits: tuple[int, ...], shared: bool):
    """How to apply a dense op: (mode, permute axes or None, new order, L, R).

    Modes: "fold" (targets last, one GEMM over all rows), "middle" (targets contiguous,
    matmul on a ``(B, L, d, R)`` view, no copy), "last" / "first" (targets moved to the
    end / front of the qubit axes, one copy unless already there).
    """
    n = len(order)
    k = len(qubits)
    target = tuple(reversed(qubits))  # most significant bit first
    a = _find(order, target)
    if a is not None:
        left, right = 1 << a, 1 << (n - a - k)
        if shared and right == 1:
            return "fold", None, order, left, 1
        if not shared and left == 1:
            return "first", None, order, 1, right
        if right >= MIDDLE_MIN:
            return "middle", None, order, left, right
    rest = tuple(q for q in order if q not in target)
    new = rest + target if shared else target + rest
    axes = [0] + [1 + order.index(q) for q in new]
    if shared:
        return "last", axes, new, 1 << (n - k), 1
    return "first", axes, new, 1, 1 << (n - k)


def apply_dense(psi: torch.Tensor, order: Order, qubits: tuple[int, ...], m: torch.Tensor):
    """Apply ``m`` (``(B|1, d, d)``, index bit j = ``qubits[j]``) to ``psi``; return (psi, order).

    A matrix shared by the batch becomes one GEMM over rows or a broadcast matmul on a
    view; per-sample matrices use batched GEMMs. At most one copy (moving the targets).
    """
    n = len(order)
    d = m.shape[-1]
    batch = psi.shape[0]
    shared = m.shape[0] == 1
    mode, axes, new_order, left, right = dense_mode(order, qubits, shared)
    src = psi if axes is None else psi.permute(axes)
    if mode in ("fold", "last"):
        out = torch.matmul(src.reshape(batch, -1, d), m[0].transpose(0, 1))
    elif mode == "first":
        out = torch.matmul(m, src.reshape(batch, d, -1))
    else:
        view = src.reshape(batch, left, d, right)
        out = torch.matmul(m[0] if shared else m.unsqueeze(1), view)
    return out.reshape((out.shape[0],) + (2,) * n), new_order


def gram(lam: torch.Tensor, phi: torch.Tensor, order: Order, qubits: tuple[int, ...]):
    """``H[b, a, c] = sum over other qubits of conj(lam[b, a, ...]) phi[b, c, ...]`` on ``qubits``."""
    n = len(order)
    k = len(qubits)
    d = 1 << k
    target = tuple(reversed(qubits))
    batch = phi.shape[0]
    a = _find(order, target)
    if a is not None:
        left, right = 1 << a, 1 << (n - a - k)
        if right == 1:  # (B, L, d): one batched GEMM over the rows
            lv, pv = lam.reshape(batch, left, d), phi.reshape(batch, left, d)
            return torch.matmul(lv.conj().transpose(1, 2), pv)
        shape = (batch, left, d, right)
        lv, pv = lam.reshape(shape), phi.reshape(shape)
        if left > 1 and right < MIDDLE_MIN:
            lv = lv.transpose(1, 2).reshape(batch, 1, d, -1)
            pv = pv.transpose(1, 2).reshape(batch, 1, d, -1)
    else:
        rest = tuple(q for q in order if q not in target)
        axes = [0] + [1 + order.index(q) for q in target + rest]
        lv = lam.permute(axes).reshape(batch, 1, d, -1)
        pv = phi.permute(axes).reshape(batch, 1, d, -1)
    return torch.matmul(lv.conj(), pv.transpose(2, 3)).sum(dim=1)


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
