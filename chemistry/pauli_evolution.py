"""Batched Pauli-exponential evolution on state vectors, the fast path of GQE, UCC and q-sc-EOM.

``exp(-i t P) psi = cos(t) psi - i sin(t) P psi``, and ``P psi`` is a permutation of amplitudes with
phases, so a batch of states can each take its *own* sequence of Pauli exponentials in one pass:
no circuit per candidate, no dense gate. Energies use ``H psi`` from a sparse matrix. Conventions are
Qiskit's: qubit 0 is the least-significant bit of a basis index and the right-most label character.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.circuit.library import PauliEvolutionGate
from qiskit.quantum_info import SparsePauliOp

from circuits.errors import ChemistryError

_VALID = set("IXYZ")


def _check_label(label: str, n_qubits: int) -> str:
    if not isinstance(label, str) or len(label) != n_qubits or not set(label) <= _VALID:
        raise ChemistryError(
            f"Pauli label {label!r} must be a string of {n_qubits} characters from I, X, Y, Z"
        )
    return label


def pauli_masks(labels: Sequence[str], n_qubits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x_mask, z_mask, n_y)`` per label: bit q of a mask is set when qubit q carries X/Y (Z/Y)."""
    x = np.zeros(len(labels), dtype=np.int64)
    z = np.zeros(len(labels), dtype=np.int64)
    ny = np.zeros(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        _check_label(label, n_qubits)
        for q, ch in enumerate(reversed(label)):
            if ch in "XY":
                x[i] |= 1 << q
            if ch in "ZY":
                z[i] |= 1 << q
        ny[i] = label.count("Y")
    return x, z, ny


@dataclass
class PauliTable:
    """A compiled list of Pauli strings: per string the index permutation and the phase vector.

    ``P_j psi = phase[j] * psi[index[j]]`` (element-wise), the whole action of string ``j``.
    """

    labels: list[str]
    n_qubits: int
    index: torch.Tensor  # (n_strings, 2**n) int64
    phase: torch.Tensor  # (n_strings, 2**n) complex

    @classmethod
    def build(
        cls,
        labels: Sequence[str],
        n_qubits: int,
        dtype: torch.dtype = torch.complex128,
        device: str | torch.device = "cpu",
    ) -> PauliTable:
        labels = list(labels)
        if not labels:
            raise ChemistryError("a PauliTable needs at least one Pauli string")
        if n_qubits > 24:
            raise ChemistryError(f"{n_qubits} qubits is too many for a state-vector Pauli table (at most 24)")
        x, z, ny = pauli_masks(labels, n_qubits)
        k = np.arange(2**n_qubits, dtype=np.int64)
        src = k[None, :] ^ x[:, None]  # (P psi)[k] = i^ny (-1)^{|src & z|} psi[src]
        parity = _popcount_parity(src & z[:, None])
        phase = (1j**ny)[:, None] * np.where(parity, -1.0, 1.0)
        return cls(
            labels=labels,
            n_qubits=n_qubits,
            index=torch.as_tensor(src, device=device),
            phase=torch.as_tensor(phase, dtype=dtype, device=device),
        )

    def __len__(self) -> int:
        return len(self.labels)

    def apply(self, states: torch.Tensor, which: torch.Tensor | int) -> torch.Tensor:
        """``P_{which[b]} states[b]`` for a batch ``(B, 2**n)``; ``which`` an int or ``(B,)`` indices."""
        if isinstance(which, int):
            return self.phase[which] * states[:, self.index[which]]
        return self.phase[which] * torch.gather(states, 1, self.index[which])


def _popcount_parity(values: np.ndarray) -> np.ndarray:
    """Parity of the number of set bits, element-wise (int64 input)."""
    v = values.copy()
    parity = np.zeros(v.shape, dtype=bool)
    while np.any(v):
        parity ^= (v & 1).astype(bool)
        v >>= 1
    return parity


def evolve(
    states: torch.Tensor,
    table: PauliTable,
    which: torch.Tensor | Sequence[int],
    angles: torch.Tensor | Sequence[float],
) -> torch.Tensor:
    """Apply ``exp(-i t_l P_l)`` for l = 0..L-1 in order to each state of the batch.

    ``which``: ``(L,)`` string indices shared by the batch, or ``(B, L)`` one sequence per state.
    ``angles``: ``(L,)`` or ``(B, L)`` real; differentiable (autograd flows through cos/sin).
    """
    if states.dim() != 2 or states.shape[1] != 2**table.n_qubits:
        raise ChemistryError(f"states must have shape (B, {2**table.n_qubits}), got {tuple(states.shape)}")
    which = torch.as_tensor(which, device=states.device)
    if not isinstance(angles, torch.Tensor):  # a list of floats would become float32
        angles = torch.as_tensor(np.asarray(angles, dtype=float))
    angles = angles.to(states.device)
    if not angles.is_floating_point():
        angles = angles.double()
    batch = states.shape[0]
    if which.dim() == 1:
        which = which.unsqueeze(0).expand(batch, -1)
    if angles.dim() == 1:
        angles = angles.unsqueeze(0).expand(batch, -1)
    if which.shape != angles.shape or which.shape[0] != batch:
        raise ChemistryError(
            f"which {tuple(which.shape)} and angles {tuple(angles.shape)} must both be (L,) or ({batch}, L)"
        )
    if which.numel() and (int(which.min()) < 0 or int(which.max()) >= len(table)):
        raise ChemistryError(f"Pauli indices must lie in [0, {len(table)})")
    angles = angles.to(states.real.dtype)
    shared = bool((which == which[:1]).all()) if batch > 1 else True
    for step in range(which.shape[1]):
        t = angles[:, step : step + 1]
        w = int(which[0, step]) if shared else which[:, step]
        states = torch.cos(t) * states - 1j * torch.sin(t) * table.apply(states, w)
    return states


def basis_states(
    bitstrings: Sequence[str], dtype: torch.dtype = torch.complex128, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """Computational basis states ``(B, 2**n)`` from Qiskit-order bitstrings (qubit 0 right-most)."""
    if not bitstrings:
        raise ChemistryError("need at least one bitstring")
    n = len(bitstrings[0])
    out = torch.zeros(len(bitstrings), 2**n, dtype=dtype, device=device)
    for b, s in enumerate(bitstrings):
        if len(s) != n or set(s) - {"0", "1"}:
            raise ChemistryError(f"bitstring {s!r} must be {n} characters of 0/1")
        out[b, int(s, 2)] = 1.0
    return out


class SparseHamiltonian:
    """``H`` as a torch sparse CSR matrix: ``apply`` gives ``H psi`` and ``energy`` gives <H> per state."""

    def __init__(
        self,
        hamiltonian: SparsePauliOp,
        dtype: torch.dtype = torch.complex128,
        device: str | torch.device = "cpu",
    ):
        if not isinstance(hamiltonian, SparsePauliOp):
            raise ChemistryError(f"hamiltonian must be a SparsePauliOp, got {type(hamiltonian).__name__}")
        self.n_qubits = hamiltonian.num_qubits
        m = hamiltonian.to_matrix(sparse=True).tocsr()
        with warnings.catch_warnings():  # "sparse CSR support is in beta"
            warnings.simplefilter("ignore", UserWarning)
            self.matrix = torch.sparse_csr_tensor(
                torch.as_tensor(m.indptr, dtype=torch.int64),
                torch.as_tensor(m.indices, dtype=torch.int64),
                torch.as_tensor(m.data, dtype=dtype),
                size=m.shape,
                check_invariants=False,
            ).to(device)

    def apply(self, states: torch.Tensor) -> torch.Tensor:
        """``H psi`` for a batch ``(B, 2**n)``."""
        return (self.matrix @ states.T).T

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """Real ``<psi|H|psi> / <psi|psi>`` per state ``(B,)``; differentiable in the states."""
        h_psi = self.apply(states)
        num = (states.conj() * h_psi).sum(dim=1).real
        return num / (states.conj() * states).sum(dim=1).real


def to_circuit(
    labels: Sequence[str],
    angles: Sequence[float],
    n_qubits: int,
    initial_bitstring: str | None = None,
) -> QuantumCircuit:
    """The same evolution as a Qiskit circuit: X gates for the initial bitstring, then one
    ``PauliEvolutionGate(P_l, time=t_l)`` (= ``exp(-i t_l P_l)``) per step; identities are skipped
    (a global phase)."""
    if len(labels) != len(angles):
        raise ChemistryError(f"{len(labels)} Pauli strings but {len(angles)} angles")
    qc = QuantumCircuit(n_qubits)
    if initial_bitstring is not None:
        if len(initial_bitstring) != n_qubits:
            raise ChemistryError(f"initial bitstring {initial_bitstring!r} must have {n_qubits} characters")
        for q, ch in enumerate(reversed(initial_bitstring)):
            if ch == "1":
                qc.x(q)
    phase = 0.0
    for label, t in zip(labels, angles, strict=True):
        _check_label(label, n_qubits)
        if set(label) == {"I"}:
            phase -= float(t)
            continue
        qc.append(PauliEvolutionGate(SparsePauliOp(label), time=float(t)), range(n_qubits))
    qc.global_phase = phase
    return qc


@dataclass
class PauliSequence:
    """A unitary ``U = exp(-i t_{L-1} P_{L-1}) … exp(-i t_0 P_0)`` (``P_0`` acts first).

    The common currency of GQE circuits, UCC ansaetze and q-sc-EOM: ``apply`` runs it on a batch of
    states (fast path), ``to_circuit`` gives the Qiskit circuit for engines, hardware and gate counts.
    """

    labels: list[str]
    angles: list[float]
    n_qubits: int

    def __post_init__(self):
        self.labels = [_check_label(lab, self.n_qubits) for lab in self.labels]
        self.angles = [float(t) for t in self.angles]
        if len(self.labels) != len(self.angles):
            raise ChemistryError(f"{len(self.labels)} Pauli strings but {len(self.angles)} angles")

    def __len__(self) -> int:
        return len(self.labels)

    def apply(self, states: torch.Tensor) -> torch.Tensor:
        """``U psi`` for a batch ``(B, 2**n)``."""
        if not self.labels:
            return states
        table = PauliTable.build(self.labels, self.n_qubits, dtype=states.dtype, device=states.device)
        return evolve(states, table, list(range(len(self))), self.angles)

    def inverse(self) -> PauliSequence:
        """``U^dagger``: the steps reversed with negated angles."""
        return PauliSequence(self.labels[::-1], [-t for t in self.angles[::-1]], self.n_qubits)

    def to_circuit(self, initial_bitstring: str | None = None) -> QuantumCircuit:
        return to_circuit(self.labels, self.angles, self.n_qubits, initial_bitstring)

    def simplified(self, atol: float = 1e-12) -> PauliSequence:
        """The same unitary with fewer steps: a step moves back past steps it commutes with and
        merges into an equal string (angles add); identities and zero angles go (global phase kept
        only up to the identity steps, which only change the phase)."""
        labels: list[str] = []
        angles: list[float] = []
        for label, t in zip(self.labels, self.angles, strict=True):
            if set(label) == {"I"} or abs(t) <= atol:
                continue
            k = len(labels) - 1
            while k >= 0 and labels[k] != label and _commute(labels[k], label):
                k -= 1
            if k >= 0 and labels[k] == label:
                angles[k] += t
            else:
                labels.append(label)
                angles.append(t)
        keep = [i for i, t in enumerate(angles) if abs(t) > atol]
        return PauliSequence([labels[i] for i in keep], [angles[i] for i in keep], self.n_qubits)


def _commute(a: str, b: str) -> bool:
    """Whether two Pauli strings commute: an even number of positions with different non-identities."""
    return sum(1 for x, y in zip(a, b, strict=True) if x != "I" and y != "I" and x != y) % 2 == 0
