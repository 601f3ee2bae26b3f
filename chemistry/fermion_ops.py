"""Fermionic operators on state vectors, with the same Jordan-Wigner signs as ``chemistry.mapping``.

Spin orbital ``k`` is qubit ``k`` = bit ``k`` of a basis index (qubit 0 least significant), ``|1>`` is
occupied, and ``a_k`` carries the parity of the occupations of the *lower* orbitals ``0..k-1``
(PennyLane's ``jordan_wigner``: ``a+_k = Z_0 ... Z_{k-1} (X_k - i Y_k) / 2``):

    a_k |n> = (-1)^(n_0 + ... + n_{k-1}) |n - e_k>   if n_k = 1, else 0.

States are batches ``(B, 2**n)`` (a single ``(2**n,)`` vector is accepted too); torch tensors stay
torch (complex128 is what :mod:`chemistry.pauli_evolution` uses), numpy arrays stay numpy. Every
operator is one gather with a precomputed sign vector: no loop over basis states.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from qiskit.quantum_info import SparsePauliOp

from circuits.errors import ChemistryError

__all__ = [
    "annihilate",
    "bitstring_of",
    "create",
    "determinants",
    "excitation",
    "occupations",
    "sector_matrix",
    "transition_rdm",
]

_MAX_QUBITS = 26


def _popcount(values: np.ndarray) -> np.ndarray:
    """Number of set bits, element-wise, for non-negative int64 input."""
    v = np.asarray(values, dtype=np.int64).copy()
    count = np.zeros(v.shape, dtype=np.int64)
    while np.any(v):
        count += v & 1
        v >>= 1
    return count


def _n_qubits_of(dim: int) -> int:
    n = int(dim).bit_length() - 1
    if dim < 2 or 2**n != dim:
        raise ChemistryError(f"state length {dim} is not a power of two (2**n_qubits)")
    if n > _MAX_QUBITS:
        raise ChemistryError(f"{n} qubits is too many for dense fermionic operators (at most {_MAX_QUBITS})")
    return n


@lru_cache(maxsize=256)
def _ladder(n_qubits: int, p: int, dagger: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``(source, factor)`` with ``(op psi)[m] = factor[m] * psi[source[m]]`` for ``op = a_p`` / ``a+_p``."""
    m = np.arange(2**n_qubits, dtype=np.int64)
    bit = np.int64(1) << p
    occupied = (m & bit) != 0
    sign = np.where(_popcount(m & (bit - 1)) % 2 == 1, -1.0, 1.0)
    # a_p: output m must have n_p = 0 (it came from m | bit); a+_p: output m must have n_p = 1
    keep = occupied if dagger else ~occupied
    source = m ^ bit
    factor = np.where(keep, sign, 0.0)
    return torch.as_tensor(source), torch.as_tensor(factor)


def _apply_ladder(states, p: int, dagger: bool):
    is_numpy = not isinstance(states, torch.Tensor)
    x = torch.as_tensor(np.asarray(states, dtype=complex)) if is_numpy else states
    single = x.dim() == 1
    if single:
        x = x.unsqueeze(0)
    if x.dim() != 2:
        raise ChemistryError(f"states must have shape (B, 2**n) or (2**n,), got {tuple(x.shape)}")
    n = _n_qubits_of(x.shape[1])
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not 0 <= p < n:
        raise ChemistryError(f"spin orbital {p!r} is outside 0..{n - 1} for {n} qubits")
    if not x.is_complex():
        x = x.to(torch.complex128)
    source, factor = _ladder(n, int(p), dagger)
    out = x[:, source.to(x.device)] * factor.to(device=x.device, dtype=x.real.dtype)
    if single:
        out = out[0]
    return out.numpy() if is_numpy else out


def annihilate(states: torch.Tensor | np.ndarray, p: int) -> torch.Tensor | np.ndarray:
    """``a_p`` applied to each state of a batch ``(B, 2**n)``: removes an electron from spin orbital p."""
    return _apply_ladder(states, p, dagger=False)


def create(states: torch.Tensor | np.ndarray, p: int) -> torch.Tensor | np.ndarray:
    """``a+_p`` applied to each state of a batch ``(B, 2**n)``: adds an electron to spin orbital p."""
    return _apply_ladder(states, p, dagger=True)


# ---------------------------------------------------------------------------------------------
# determinants (basis indices) and the fermionic sign of a string of ladder operators


def occupations(index: int, n_qubits: int) -> list[int]:
    """Occupied spin orbitals of basis index ``index``, ascending."""
    return [k for k in range(n_qubits) if (index >> k) & 1]


def bitstring_of(index: int, n_qubits: int) -> str:
    """Qiskit-order bitstring of a basis index (qubit 0 right-most)."""
    return format(int(index), f"0{n_qubits}b")


def excitation(index: int, ops: Sequence[tuple[int, bool]]) -> tuple[int, int] | None:
    """Apply ladder operators to the determinant ``|index>``; ``(sign, new_index)`` or None if zero.

    ``ops`` lists ``(spin_orbital, dagger)`` in the order they *act* (right-most operator first),
    e.g. ``a+_a a_j a_i |D>`` is ``[(i, False), (j, False), (a, True)]``.
    """
    sign = 1
    det = int(index)
    for p, dagger in ops:
        bit = 1 << int(p)
        if bool(det & bit) == bool(dagger):
            return None
        if bin(det & (bit - 1)).count("1") % 2:
            sign = -sign
        det ^= bit
    return sign, det


def determinants(n_qubits: int, n_alpha: int, n_beta: int) -> np.ndarray:
    """Basis indices of all determinants with ``n_alpha`` electrons on even (alpha) qubits and
    ``n_beta`` on odd (beta) qubits, ascending: the (N, S_z) sector used throughout q-sc-EOM."""
    for label, v in (("n_qubits", n_qubits), ("n_alpha", n_alpha), ("n_beta", n_beta)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ChemistryError(f"{label} must be a non-negative integer, got {v!r}")
    if n_qubits % 2 or not 0 < n_qubits <= _MAX_QUBITS:
        raise ChemistryError(
            f"n_qubits must be even (alpha/beta pairs) and in 2..{_MAX_QUBITS}, got {n_qubits}"
        )
    if n_alpha > n_qubits // 2 or n_beta > n_qubits // 2:
        raise ChemistryError(
            f"{n_alpha} alpha + {n_beta} beta electrons do not fit in {n_qubits // 2} spatial orbitals"
        )
    m = np.arange(2**n_qubits, dtype=np.int64)
    even = int("01" * (n_qubits // 2), 2)
    return m[(_popcount(m & even) == n_alpha) & (_popcount(m & (even << 1)) == n_beta)]


def sector_matrix(hamiltonian: SparsePauliOp, indices: Sequence[int] | np.ndarray) -> np.ndarray:
    """Dense ``<D_i|H|D_j>`` over the determinants ``indices`` (e.g. from :func:`determinants`)."""
    if not isinstance(hamiltonian, SparsePauliOp):
        raise ChemistryError(f"hamiltonian must be a SparsePauliOp, got {type(hamiltonian).__name__}")
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    dim = 2**hamiltonian.num_qubits
    if idx.size == 0:
        raise ChemistryError("sector_matrix needs at least one determinant index")
    if idx.min() < 0 or idx.max() >= dim:
        raise ChemistryError(
            f"determinant indices must lie in [0, {dim}) for {hamiltonian.num_qubits} qubits"
        )
    matrix = hamiltonian.to_matrix(sparse=True).tocsr()
    return np.asarray(matrix[idx][:, idx].toarray())


# ---------------------------------------------------------------------------------------------
# transition density matrices


def _as_tensor(states) -> torch.Tensor:
    """A torch view of numpy input (no copy when already complex128); torch input unchanged."""
    return states if isinstance(states, torch.Tensor) else torch.as_tensor(np.asarray(states))


def transition_rdm(
    final_states: torch.Tensor | np.ndarray,
    initial_state: torch.Tensor | np.ndarray,
    core: int,
) -> np.ndarray:
    """``gamma[K, p, q] = <K| a+_core a_q a_p |I>`` for final states ``(K, 2**n)`` and one initial state.

    The Auger (OCA) transition 2-RDM between an (N-1)-electron core-hole state ``|I>`` and
    (N-2)-electron final states ``|K>``: two electrons leave ``p, q`` and one fills the ``core``
    hole. ``a_q a_p = -a_p a_q``, so ``gamma`` is antisymmetric in ``p, q``. Returns complex numpy.
    """
    final, initial = _as_tensor(final_states), _as_tensor(initial_state)
    if final.dim() == 1:
        final = final.unsqueeze(0)
    initial = initial.reshape(1, -1) if initial.dim() == 1 or initial.shape[0] == 1 else initial
    if initial.shape[0] != 1:
        raise ChemistryError(f"initial_state must be one state (2**n,), got shape {tuple(initial.shape)}")
    if final.dim() != 2 or final.shape[1] != initial.shape[1]:
        raise ChemistryError(
            f"final_states {tuple(final.shape)} and initial_state {tuple(initial.shape)} must share 2**n"
        )
    n = _n_qubits_of(initial.shape[1])
    final = final.to(torch.complex128)
    initial = initial.to(device=final.device, dtype=torch.complex128)
    if isinstance(core, bool) or not isinstance(core, (int, np.integer)) or not 0 <= core < n:
        raise ChemistryError(f"core spin orbital {core!r} is outside 0..{n - 1} for {n} qubits")
    # a_p |I> for all p, then a_q on that batch, then a+_core: (n*n, 2**n) vectors a+_c a_q a_p |I>
    single = torch.cat([annihilate(initial, p) for p in range(n)])  # row p = a_p |I>
    pairs = torch.stack([annihilate(single, q) for q in range(n)], dim=1)  # [p, q] = a_q a_p |I>
    pairs = create(pairs.reshape(n * n, -1), int(core))
    gamma = final.conj() @ pairs.T  # (K, n*n)
    return gamma.reshape(final.shape[0], n, n).cpu().numpy()
