"""Binary polynomials (QUBO/HUBO) as diagonal cost Hamiltonians, and their exact optimum.

A polynomial maps a sorted tuple of variable indices to a coefficient (``()`` is the constant);
variables are 0/1 and ``x**2 == x``. Variable ``i`` is qubit ``i``; with ``x_i = (1 - Z_i) / 2``
bit value 1 is the |1> state, and a bitstring shows qubit 0 right-most (Qiskit order).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from circuits.errors import ConfigurationError

__all__ = [
    "QUBIT_LIMIT",
    "Exact",
    "Poly",
    "check_qubits",
    "diagonal",
    "exact_optimum",
    "poly_to_pauli",
    "terms",
]

#: the paper's limit (``QUBIT_LIMIT``): exact diagonalisation and simulation stay cheap
QUBIT_LIMIT = 16

Poly = dict[tuple[int, ...], float]


def check_qubits(n_qubits: int, what: str) -> None:
    """Refuse an instance above :data:`QUBIT_LIMIT` qubits, naming the count and the limit."""
    if n_qubits > QUBIT_LIMIT:
        raise ConfigurationError(
            f"{what} needs {n_qubits} qubits, above the limit of {QUBIT_LIMIT}; use a smaller graph"
        )


def const(c: float) -> Poly:
    return {(): float(c)} if c else {}


def var(i: int) -> Poly:
    return {(i,): 1.0}


def add(*polys: Poly, scale: Iterable[float] | None = None) -> Poly:
    """Sum of ``polys`` (each times its ``scale`` entry)."""
    out: dict[tuple[int, ...], float] = defaultdict(float)
    for p, s in zip(polys, scale if scale is not None else [1.0] * len(polys), strict=True):
        for k, c in p.items():
            out[k] += s * c
    return {k: c for k, c in out.items() if c != 0.0}


def mul(a: Poly, b: Poly) -> Poly:
    """Product of two polynomials, with ``x**2 == x``."""
    out: dict[tuple[int, ...], float] = defaultdict(float)
    for ka, ca in a.items():
        for kb, cb in b.items():
            out[tuple(sorted(set(ka) | set(kb)))] += ca * cb
    return {k: c for k, c in out.items() if c != 0.0}


def scale(a: Poly, s: float) -> Poly:
    return {k: s * c for k, c in a.items() if s * c != 0.0}


def poly_to_pauli(poly: Poly, n_qubits: int) -> SparsePauliOp:
    """The diagonal Hamiltonian of ``poly``: each ``prod x_i`` expands over ``(1 - Z_i) / 2``."""
    z: dict[tuple[int, ...], float] = defaultdict(float)
    for key, c in poly.items():
        w = c / 2 ** len(key)
        for r in range(len(key) + 1):
            for sub in combinations(key, r):
                z[sub] += w * (-1) ** r
    items = [("Z" * len(k), list(k), c) for k, c in sorted(z.items()) if abs(c) > 1e-12]
    if not items:
        items = [("", [], 0.0)]
    return SparsePauliOp.from_sparse_list(items, num_qubits=n_qubits).simplify(atol=1e-12)


def terms(op: SparsePauliOp) -> list[tuple[tuple[int, ...], float]]:
    """``[(qubits, coefficient), ...]`` of a diagonal ``op`` (``()`` is the identity term)."""
    out = []
    for pauli, c in zip(op.paulis, op.coeffs, strict=True):
        if pauli.x.any():
            raise ConfigurationError(f"the Hamiltonian term {pauli} is not diagonal (X or Y in it)")
        out.append((tuple(int(i) for i in np.flatnonzero(pauli.z)), float(np.real(c))))
    return out


def diagonal(op: SparsePauliOp) -> np.ndarray:
    """The ``2**n`` diagonal of a Z-only ``op``; index ``b`` has qubit ``i`` in bit ``i`` of ``b``."""
    check_qubits(op.num_qubits, "the Hamiltonian")
    index = np.arange(2**op.num_qubits, dtype=np.int64)
    diag = np.zeros(2**op.num_qubits)
    for qubits, c in terms(op):
        mask = sum(1 << q for q in qubits)
        parity = np.bitwise_count(index & mask) & 1
        diag += c * (1 - 2 * parity.astype(np.float64))
    return diag


@dataclass(frozen=True)
class Exact:
    """The exact optimum: ``energy`` and every ``bitstrings`` reaching it (qubit 0 right-most)."""

    energy: float
    bitstrings: tuple[str, ...]

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(int(b, 2) for b in self.bitstrings)


def exact_optimum(op: SparsePauliOp, atol: float = 1e-9) -> Exact:
    """Ground energy and every ground bitstring of a diagonal ``op``, by full diagonalisation."""
    diag = diagonal(op)
    e0 = float(diag.min())
    idx = np.flatnonzero(diag <= e0 + atol)
    return Exact(e0, tuple(format(int(i), f"0{op.num_qubits}b") for i in idx))
