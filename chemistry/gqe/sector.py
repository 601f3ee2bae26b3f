"""GQE candidates in the sector their pool can reach: exact energies on a few hundred amplitudes.

A particle-number-conserving pool never leaves the determinants reachable from the initial state
(water, STO-3G: 441 of 2**14), so each token is a sparse ``D x D`` unitary (an excitation rotation
mixes pairs of determinants) and ``H`` a dense ``D x D`` matrix. Candidates then cost ``B * D * w``
per step (``w``: most determinants a token mixes, 2 for excitations) instead of a full state vector
per Pauli string, with the same energies (a token's Pauli terms commute, so it is
``exp(-i sum_j a_j P_j)``, exponentiated block by block).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg
import torch
from qiskit.quantum_info import SparsePauliOp
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from chemistry.pauli_evolution import pauli_masks
from circuits.errors import ChemistryError

if TYPE_CHECKING:  # pool.py imports this module for screened_pool
    from chemistry.gqe.pool import OperatorPool

#: Largest sector the dense Hamiltonian is built for (a 4096 x 4096 float64 matrix is 128 MiB).
MAX_SECTOR = 4096


def _parity(values: np.ndarray) -> np.ndarray:
    """Parity of the set bits of int64 values, element-wise."""
    v = values.copy()
    out = np.zeros(v.shape, dtype=np.int64)
    while np.any(v):
        out ^= v & 1
        v >>= 1
    return out


def _commute(x: np.ndarray, z: np.ndarray) -> bool:
    """Whether all Pauli strings given by their masks commute pairwise (symplectic product)."""
    sym = _parity((x[:, None] & z[None, :]) ^ (z[:, None] & x[None, :]))
    return not sym.any()


class _Generator:
    """One token's ``A = sum_j a_j P_j`` acting on basis indices: ``A|d> = sum_j c_j(d) |d ^ x_j>``."""

    def __init__(self, steps, n_qubits: int):
        steps = [(label, t) for label, t in steps if set(label) != {"I"} and t != 0]
        self.empty = not steps
        if self.empty:
            return
        x, z, ny = pauli_masks([s[0] for s in steps], n_qubits)
        if not _commute(x, z):
            raise ChemistryError("a token's Pauli strings must commute for the sector path")
        self.x, self.z = x, z
        self.coeff = np.array([t for _, t in steps], dtype=complex) * (1j**ny)

    def columns(self, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(row index, column position, value)`` of ``A`` on the columns ``basis`` (summed)."""
        src = basis[None, :] ^ self.x[:, None]  # P|d> = i^ny (-1)^{|d & z|} |d ^ x>
        sign = 1.0 - 2.0 * _parity(basis[None, :] & self.z[:, None])
        val = self.coeff[:, None] * sign
        col = np.broadcast_to(np.arange(basis.size), src.shape)
        key = src.ravel() * basis.size + col.ravel()
        uniq, inv = np.unique(key, return_inverse=True)
        total = np.zeros(uniq.size, dtype=complex)
        np.add.at(total, inv, val.ravel())
        keep = np.abs(total) > 1e-13
        return uniq[keep] // basis.size, uniq[keep] % basis.size, total[keep]


def reachable_sector(pool: OperatorPool, initial_bitstring: str, limit: int = MAX_SECTOR) -> np.ndarray:
    """Sorted basis indices reachable from ``initial_bitstring`` by the pool's token generators."""
    gens = [g for g in (_Generator(steps, pool.n_qubits) for steps in pool.tokens) if not g.empty]
    basis = np.array([int(initial_bitstring, 2)], dtype=np.int64)
    frontier = basis
    while frontier.size:
        found = [g.columns(frontier)[0] for g in gens]
        new = np.setdiff1d(np.concatenate([basis, *found]), basis)
        if basis.size + new.size > limit:
            raise ChemistryError(
                f"the pool reaches more than {limit} basis states; use the state-vector path"
            )
        basis = np.union1d(basis, new)
        frontier = new
    return basis


class SectorPool:
    """The pool's tokens as sparse unitaries on ``basis``: row ``k`` of token ``j`` is
    ``sum_w coef[j, k, w] * psi[idx[j, k, w]]``."""

    def __init__(self, pool: OperatorPool, basis: np.ndarray, device: str | torch.device = "cpu"):
        d = basis.size
        blocks = []
        for steps in pool.tokens:
            if _Generator(steps, pool.n_qubits).empty:
                blocks.append((np.arange(d)[:, None], np.ones((d, 1), dtype=complex)))
                continue
            blocks.append(_exp_blockwise(sector_generator(steps, pool.n_qubits, basis)))
        width = max(idx.shape[1] for idx, _ in blocks)
        idx = np.tile(np.arange(d)[None, :, None], (len(blocks), 1, width))
        coef = np.zeros((len(blocks), d, width), dtype=complex)
        for j, (i, c) in enumerate(blocks):
            idx[j, :, : i.shape[1]], coef[j, :, : c.shape[1]] = i, c
        real = np.abs(coef.imag).max() < 1e-14
        dtype = torch.float64 if real else torch.complex128
        self.basis, self.width = basis, width
        self.idx = torch.as_tensor(idx.reshape(len(blocks), d * width), device=device)
        self.coef = torch.as_tensor(coef.real if real else coef, dtype=dtype, device=device)
        self.dtype = dtype

    def evolve(self, psi: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Apply each row's tokens ``(B, L)`` in order to the sector states ``psi`` ``(B, D)``."""
        b, d = psi.shape
        for step in range(tokens.shape[1]):
            tok = tokens[:, step]
            gathered = torch.gather(psi, 1, self.idx[tok]).reshape(b, d, self.width)
            psi = (self.coef[tok] * gathered).sum(dim=2)
        return psi


def initial_gradients(pool: OperatorPool, hamiltonian: SparsePauliOp, initial_bitstring: str) -> np.ndarray:
    """``d<H>/ds`` at ``s = 0`` of each token ``exp(-i s A_j)`` on the initial basis state:
    ``2 Im <0|H A_j|0>`` (zero for the identity, for singles on a HF state, and by symmetry)."""
    k0 = np.array([int(initial_bitstring, 2)], dtype=np.int64)
    row = hamiltonian.to_matrix(sparse=True).tocsr()[int(k0[0])]
    out = np.zeros(len(pool))
    for j, steps in enumerate(pool.tokens):
        g = _Generator(steps, pool.n_qubits)
        if not g.empty:
            rows, _, vals = g.columns(k0)
            out[j] = 2 * float(np.imag(sum(row[0, int(r)] * v for r, v in zip(rows, vals, strict=True))))
    return out


def sector_generator(steps, n_qubits: int, basis: np.ndarray) -> np.ndarray:
    """Dense ``A = sum_j a_j P_j`` of one token's ``(label, angle)`` steps on ``basis``."""
    d = basis.size
    g = _Generator(steps, n_qubits)
    if g.empty:
        return np.zeros((d, d), dtype=complex)
    rows, cols, vals = g.columns(basis)
    inside = np.isin(rows, basis)
    if np.abs(vals[~inside]).max(initial=0.0) > 1e-12:
        raise ChemistryError("a token leaves the reachable sector")
    r = np.searchsorted(basis, rows[inside])
    return coo_matrix((vals[inside], (r, cols[inside])), shape=(d, d)).toarray()


def _exp_blockwise(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``exp(-i A)`` of a sparse Hermitian ``A`` as per-row ``(columns, values)``, one dense
    exponential per connected block (blocks of the same size in one batched call)."""
    d = a.shape[0]
    n_comp, label = connected_components(coo_matrix(np.abs(a) > 0), directed=False)
    order = np.argsort(label, kind="stable")
    sizes = np.bincount(label, minlength=n_comp)
    width = int(sizes.max())
    idx = np.tile(np.arange(d)[:, None], (1, width))
    val = np.zeros((d, width), dtype=complex)
    start = np.concatenate([[0], np.cumsum(sizes)])
    members_of = [order[start[c] : start[c + 1]] for c in range(n_comp)]
    for s in np.unique(sizes):
        members = np.array([m for m in members_of if m.size == s])
        u = scipy.linalg.expm(-1j * a[members[:, :, None], members[:, None, :]])
        for row in range(s):
            idx[members[:, row], :s] = members
            val[members[:, row], :s] = u[:, row, :]
    return idx, val


def sector_hamiltonian(
    hamiltonian: SparsePauliOp, basis: np.ndarray, dtype: torch.dtype, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """``H`` restricted to ``basis`` as a dense matrix (real when ``dtype`` is real)."""
    m = hamiltonian.to_matrix(sparse=True).tocsr()[basis][:, basis].toarray()
    if not dtype.is_complex:
        if np.abs(m.imag).max(initial=0.0) > 1e-12:
            raise ChemistryError("the tokens are real but the Hamiltonian is not: use complex amplitudes")
        m = m.real
    return torch.as_tensor(m, dtype=dtype, device=device)
