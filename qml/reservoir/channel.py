"""The exact per-step quantum channel of a reservoir, as Pauli transfer matrices, run in torch.

One step of a :class:`~qml.reservoir.reservoir.QuantumReservoir` on ``n`` qubits (qubit 0 the
least-significant, Qiskit's order): reset the ``d`` data qubits and encode the input with
``RY(pi x)``; apply the fixed entangler ``U``; read the features; measure and reset qubits
``0..m-1``. Averaged over the outcomes, the measured qubits leave the step in ``|0>``, so the
recurrent state is the reduced density matrix of the ``k = n - m`` memory qubits ``m..n-1`` and
one step is a CPTP map on it. With ``RY(pi x)|0><0|RY(pi x)^dag = (I + cos(pi x) Z + sin(pi x)
X) / 2`` per data qubit, the map is *affine in the 3^d products of (1, cos, sin)*: its Pauli
transfer matrix is ``sum_j c_j(x) A_j`` with fixed matrices ``A_j``, built once. A step is then
one matrix product for a whole batch of series; features are ``sum_j c_j(x) F_j`` applied to
the stored states. The state is stored as its Pauli vector ``r_a = Tr(P_a sigma)`` (real).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

from circuits.errors import MemoryLimitError

__all__ = ["MAX_WORK_BYTES", "Channel", "feature_labels", "pauli_basis"]

#: the largest work array the channel's construction may allocate (``4^k * 4^n`` complex numbers
#: for ``n`` qubits of which ``k`` carry memory): 7 qubits with one measurement fit
MAX_WORK_BYTES = 2 * 2**30

_PAULI = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}


def pauli_basis(k: int) -> tuple[list[str], np.ndarray]:
    """The ``4^k`` Pauli strings on ``k`` qubits (Qiskit labels: right-most character is qubit 0)
    and their matrices ``(4^k, 2^k, 2^k)``; the identity first."""
    labels = ["".join(p) for p in itertools.product("IXYZ", repeat=k)]
    mats = np.empty((len(labels), 2**k, 2**k), dtype=complex)
    for i, label in enumerate(labels):
        m = np.ones((1, 1), dtype=complex)
        for ch in label:
            m = np.kron(m, _PAULI[ch])
        mats[i] = m
    return labels, mats


def feature_labels(n: int, paulis: str = "Z", pairs: bool = True) -> list[str]:
    """The observables read each step, as Qiskit Pauli labels on ``n`` qubits: ``P_i`` for every
    qubit and letter of ``paulis``, then (``pairs``) ``P_i Q_j`` for every ``i < j``."""
    out = []
    for i in range(n):
        for p in paulis:
            out.append("".join(p if q == i else "I" for q in reversed(range(n))))
    if pairs:
        for i, j in itertools.combinations(range(n), 2):
            for p, q in itertools.product(paulis, repeat=2):
                out.append("".join(p if b == i else q if b == j else "I" for b in reversed(range(n))))
    return out


def _label_matrix(label: str) -> np.ndarray:
    m = np.ones((1, 1), dtype=complex)
    for ch in label:
        m = np.kron(m, _PAULI[ch])
    return m


@dataclass
class Channel:
    """The step map of one reservoir: ``A`` (3^d, 4^k, 4^k) transfer matrices and ``F``
    (3^d, n_features, 4^k) feature matrices on the memory qubits' Pauli vector; ``d`` data qubits,
    ``m`` measured qubits, ``n`` qubits, ``unitary`` the entangler (Qiskit order)."""

    A: np.ndarray
    F: np.ndarray
    n: int
    d: int
    m: int
    unitary: np.ndarray
    labels: list[str]

    @staticmethod
    def check_size(n: int, m: int) -> None:
        """:class:`MemoryLimitError` naming the size needed if the channel of ``n`` qubits with
        ``m`` measured would exceed :data:`MAX_WORK_BYTES`."""
        need = 4 ** (n - m) * 4**n * 16  # one complex work array: a 2^n x 2^n matrix per memory Pauli
        if need > MAX_WORK_BYTES:
            raise MemoryLimitError(
                f"the exact channel of a {n}-qubit reservoir with {n - m} memory qubits needs "
                f"4^{n - m} x 4^{n} complex work arrays ({need / 2**30:.0f} GiB; the limit is "
                f"{MAX_WORK_BYTES / 2**30:.0f} GiB): use fewer qubits, more measurements, or the "
                "dynamic circuit"
            )

    @classmethod
    def build(cls, unitary: np.ndarray, n: int, d: int, m: int, labels: list[str]) -> Channel:
        """Transfer and feature matrices of ``U`` (a ``2^n`` unitary) with ``d`` data qubits and
        ``m`` measured qubits; :class:`MemoryLimitError` beyond :data:`MAX_WORK_BYTES`."""
        cls.check_size(n, m)
        k = n - m
        _, mem = pauli_basis(k)  # (4^k, 2^k, 2^k)
        dk, dm = 2**k, 2**m
        zero = np.zeros((2 ** (m - d), 2 ** (m - d)), dtype=complex)
        zero[0, 0] = 1.0
        terms = [np.eye(2), _PAULI["Z"], _PAULI["X"]]  # (I, Z, X)/2 <-> (1, cos, sin)
        obs = np.stack([_label_matrix(lab) for lab in labels]) if labels else np.zeros((0, 2**n, 2**n))
        A = np.empty((3**d, 4**k, 4**k))
        F = np.empty((3**d, len(labels), 4**k))
        for j, combo in enumerate(itertools.product(range(3), repeat=d)):
            enc = np.ones((1, 1), dtype=complex)
            for c in reversed(combo):  # data qubit 0 is the right-most factor
                enc = np.kron(enc, terms[c] / 2)
            low = np.kron(zero, enc)  # qubits 0..m-1
            # rho_b = U (P_b / 2^k (x) low) U^dag for every memory Pauli P_b
            rho = np.einsum("bij,kl->bikjl", mem / dk, low).reshape(4**k, dk * dm, dk * dm)
            rho = unitary @ rho @ unitary.conj().T
            reduced = np.einsum("bikjk->bij", rho.reshape(4**k, dk, dm, dk, dm))
            A[j] = np.real(np.einsum("aji,bij->ab", mem, reduced))
            F[j] = np.real(np.einsum("fji,bij->fb", obs, rho))
        return cls(A, F, n, d, m, unitary, list(labels))

    @property
    def memory_qubits(self) -> int:
        return self.n - self.m

    @property
    def dim(self) -> int:
        """Length of the memory's Pauli vector, ``4^k``."""
        return self.A.shape[1]

    def initial(self) -> np.ndarray:
        """The Pauli vector of ``|0..0>`` on the memory qubits."""
        labels, _ = pauli_basis(self.memory_qubits)
        return np.array([1.0 if set(lab) <= {"I", "Z"} else 0.0 for lab in labels])

    @staticmethod
    def coefficients(x: np.ndarray | torch.Tensor, d: int) -> torch.Tensor:
        """``(..., 3^d)``: the products of ``(1, cos(pi x_i), sin(pi x_i))`` over the ``d`` data
        inputs ``x`` (``(..., d)``), in the order of ``itertools.product(range(3), repeat=d)``."""
        x = torch.as_tensor(x, dtype=torch.float64)
        one = torch.ones_like(x)
        per = torch.stack([one, torch.cos(torch.pi * x), torch.sin(torch.pi * x)], dim=-1)  # (..., d, 3)
        out = per[..., 0, :]
        for i in range(1, d):
            out = (out.unsqueeze(-1) * per[..., i, None, :]).flatten(-2)
        return out

    def transfer(self, x) -> np.ndarray:
        """The ``4^k x 4^k`` Pauli transfer matrix of the step for input ``x`` (``d`` values)."""
        c = self.coefficients(np.atleast_1d(np.asarray(x, dtype=float)), self.d).numpy()
        return np.einsum("j,jab->ab", c, self.A)

    def choi(self, x) -> np.ndarray:
        """The Choi matrix ``sum_ij |i><j| (x) Phi(|i><j|)`` of the step for input ``x``
        (input factor first); PSD iff the step is completely positive."""
        k = self.memory_qubits
        _, mats = pauli_basis(k)
        T = self.transfer(x)
        dk = 2**k
        J = np.zeros((dk * dk, dk * dk), dtype=complex)
        for i in range(dk):
            for j in range(dk):
                e = np.zeros((dk, dk), dtype=complex)
                e[i, j] = 1.0
                out = T @ np.einsum("aji,ij->a", mats, e)  # Pauli vector of Phi(E_ij)
                J[i * dk : (i + 1) * dk, j * dk : (j + 1) * dk] = np.einsum("a,aij->ij", out, mats) / dk
        return J

    def spectrum(self, x) -> np.ndarray:
        """Eigenvalues of the step's transfer matrix for input ``x`` (inside the unit disc; one is 1)."""
        return np.linalg.eigvals(self.transfer(x))

    def fixed_point(self, x) -> np.ndarray:
        """The memory's density matrix left unchanged by the step for a constant input ``x``."""
        T = self.transfer(x)
        vals, vecs = np.linalg.eig(T)
        r = np.real(vecs[:, np.argmin(abs(vals - 1))])
        r = r / r[0]
        _, mats = pauli_basis(self.memory_qubits)
        return np.einsum("a,aij->ij", r, mats) / 2**self.memory_qubits

    def run(self, x: torch.Tensor, device: str | torch.device = "cpu") -> torch.Tensor:
        """Exact features ``(B, T, n_features)`` (float64) of a batch of input series ``x``
        (``(B, T, d)`` in [0, 1]), each series starting from ``|0..0>``. A step is one product
        ``[A_0 .. A_J] @ (c(x_t) (x) r_t)`` for the whole batch (numpy BLAS on the CPU, where it
        has the least overhead per step; torch on another device); then every feature at once."""
        x = torch.as_tensor(x, dtype=torch.float64)
        B, T, _ = x.shape
        coef = self.coefficients(x, self.d)  # (B, T, J)
        J, D, _ = self.A.shape
        abar_t = np.ascontiguousarray(self.A.transpose(0, 2, 1).reshape(J * D, D))  # (J*D, D)
        if torch.device(device).type == "cpu":
            c = np.ascontiguousarray(coef.numpy().transpose(1, 0, 2)[..., None])  # (T, B, J, 1)
            states = np.empty((T + 1, B, D))
            states[0] = self.initial()
            buf = np.empty((B, J, D))
            for t in range(T):
                np.multiply(c[t], states[t][:, None, :], out=buf)
                np.dot(buf.reshape(B, J * D), abar_t, out=states[t + 1])
            st = torch.from_numpy(states[:T])
        else:
            at = torch.as_tensor(abar_t, device=device)
            c = coef.to(device).transpose(0, 1).unsqueeze(-1)
            st = torch.empty(T + 1, B, D, dtype=torch.float64, device=device)
            st[0] = torch.as_tensor(self.initial(), device=device)
            for t in range(T):
                st[t + 1] = (c[t] * st[t][:, None, :]).reshape(B, J * D) @ at
            st = st[:T]
        F = torch.as_tensor(self.F, dtype=torch.float64, device=st.device)  # (J, n_f, D)
        per = torch.einsum("tbd,jfd->tbjf", st, F)
        return torch.einsum("tbjf,btj->btf", per, coef.to(st.device))
