"""Fermion-to-qubit mapping: spatial integrals and fermionic operators -> Qiskit ``SparsePauliOp``.

Spin orbital ``k = 2p + s`` (``s = 0`` alpha, ``1`` beta) is qubit ``k``, qubit 0 right-most in a
label or bitstring (Qiskit order); integrals are spatial, chemists' notation (see
:mod:`chemistry.molecules`).

This step uses PennyLane's fermionic algebra (``pennylane.fermi.FermiWord`` /
``FermiSentence`` with ``pennylane.jordan_wigner`` / ``pennylane.parity_transform``): PennyLane
is already a core dependency of ketml, its mappings are maintained and tested upstream, and
using it avoids adding OpenFermion or qiskit-nature (the latter is no longer maintained) just for
this step. PennyLane wire ``k`` is converted to Qiskit qubit ``k`` explicitly in
:func:`_to_sparse_pauli_op`.
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from circuits.errors import ChemistryError

__all__ = [
    "MAPPINGS",
    "fermionic_number_operator",
    "hf_bitstring",
    "number_operator",
    "qubit_hamiltonian",
    "spin_z_operator",
]

MAPPINGS = ("jordan_wigner", "parity")


def _check_mapping(mapping: str) -> str:
    if not isinstance(mapping, str) or mapping.lower() not in MAPPINGS:
        raise ChemistryError(f"unknown mapping {mapping!r}; use one of {', '.join(MAPPINGS)}")
    return mapping.lower()


def _map(sentence, n_qubits: int, mapping: str):
    import pennylane as pnl

    if mapping == "jordan_wigner":
        return pnl.jordan_wigner(sentence, ps=True)
    return pnl.parity_transform(sentence, n_qubits, ps=True)


def _to_sparse_pauli_op(pauli_sentence, n_qubits: int, atol: float = 1e-12) -> SparsePauliOp:
    """PennyLane PauliSentence -> SparsePauliOp: wire k becomes qubit k (right-most label character)."""
    labels, coeffs = [], []
    for word, coeff in pauli_sentence.items():
        chars = ["I"] * n_qubits
        for wire, op in word.items():
            if not 0 <= wire < n_qubits:
                raise ChemistryError(f"Pauli word acts on wire {wire}, outside {n_qubits} qubits")
            chars[n_qubits - 1 - wire] = op
        labels.append("".join(chars))
        coeffs.append(complex(coeff))
    if not labels:
        return SparsePauliOp("I" * n_qubits, [0.0])
    op = SparsePauliOp(labels, np.asarray(coeffs, dtype=complex)).simplify(atol=atol)
    imag = float(np.max(np.abs(op.coeffs.imag))) if op.size else 0.0
    if imag > 1e-9:
        raise RuntimeError(f"qubit operator has complex coefficients (max |imag| {imag:.2e}); not Hermitian?")
    return SparsePauliOp(op.paulis, op.coeffs.real.astype(complex))


def qubit_hamiltonian(
    one_body: np.ndarray, two_body: np.ndarray, constant: float = 0.0, *, mapping: str = "jordan_wigner"
) -> SparsePauliOp:
    """Qubit Hamiltonian of spatial integrals ``h_pq``, ``(pq|rs)`` (chemists') plus a constant.

    Spin orbital ``2p + s`` (s = 0 alpha, 1 beta) is qubit ``2p + s``. Terms that are the same
    operator up to reordering are merged before the mapping, which keeps it fast.
    """
    from pennylane.fermi import FermiSentence, FermiWord

    mapping = _check_mapping(mapping)
    h1 = np.asarray(one_body, dtype=float)
    h2 = np.asarray(two_body, dtype=float)
    n = h1.shape[0]
    if h1.shape != (n, n) or h2.shape != (n, n, n, n):
        raise ChemistryError(
            f"integral shapes {h1.shape} and {h2.shape} do not match (n, n) and (n, n, n, n)"
        )
    n_qubits = 2 * n
    tol = 1e-14
    terms: dict[tuple, float] = {}

    def add(key: tuple, value: float) -> None:
        terms[key] = terms.get(key, 0.0) + value

    for p, q in zip(*np.nonzero(np.abs(h1) > tol), strict=True):
        for s in (0, 1):
            add(((2 * p + s, "+"), (2 * q + s, "-")), float(h1[p, q]))
    for p, q, r, s_ in zip(*np.nonzero(np.abs(h2) > tol), strict=True):
        value = 0.5 * float(h2[p, q, r, s_])
        for a in (0, 1):
            for b in (0, 1):
                P, Q, R, S = 2 * p + a, 2 * q + a, 2 * r + b, 2 * s_ + b
                if P == R or Q == S:
                    continue
                # a+_P a+_R a_S a_Q, canonicalised: creators descending, annihilators ascending
                sign = 1.0
                c1, c2 = P, R
                if c1 < c2:
                    c1, c2, sign = c2, c1, -sign
                a1, a2 = S, Q
                if a1 > a2:
                    a1, a2, sign = a2, a1, -sign
                add(((int(c1), "+"), (int(c2), "+"), (int(a1), "-"), (int(a2), "-")), sign * value)

    sentence = FermiSentence({})
    for key, value in terms.items():
        if abs(value) > tol:
            sentence[FermiWord({(i, wire): kind for i, (wire, kind) in enumerate(key)})] = value
    op = _to_sparse_pauli_op(_map(sentence, n_qubits, mapping), n_qubits) if terms else None
    identity = SparsePauliOp("I" * n_qubits, [complex(constant)])
    return identity if op is None else (op + identity).simplify(atol=1e-12)


def number_operator(n_qubits: int, mapping: str = "jordan_wigner") -> SparsePauliOp:
    """Total particle number ``sum_k a+_k a_k`` on ``n_qubits`` spin orbitals, as a SparsePauliOp."""
    from pennylane.fermi import FermiSentence, FermiWord

    mapping = _check_mapping(mapping)
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, (int, np.integer)) or n_qubits <= 0:
        raise ChemistryError(f"n_qubits must be a positive integer, got {n_qubits!r}")
    sentence = FermiSentence({FermiWord({(0, k): "+", (1, k): "-"}): 1.0 for k in range(n_qubits)})
    return _to_sparse_pauli_op(_map(sentence, n_qubits, mapping), n_qubits)


fermionic_number_operator = number_operator


def spin_z_operator(n_qubits: int, mapping: str = "jordan_wigner") -> SparsePauliOp:
    """``S_z = 1/2 sum_p (n_p,alpha - n_p,beta)`` with the interleaved ordering (even qubits alpha)."""
    from pennylane.fermi import FermiSentence, FermiWord

    mapping = _check_mapping(mapping)
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, (int, np.integer)) or n_qubits <= 0:
        raise ChemistryError(f"n_qubits must be a positive integer, got {n_qubits!r}")
    sentence = FermiSentence(
        {FermiWord({(0, k): "+", (1, k): "-"}): 0.5 if k % 2 == 0 else -0.5 for k in range(n_qubits)}
    )
    return _to_sparse_pauli_op(_map(sentence, n_qubits, mapping), n_qubits)


def hf_bitstring(n_qubits: int, n_alpha: int, n_beta: int, mapping: str = "jordan_wigner") -> str:
    """Hartree-Fock basis state as a Qiskit bitstring (qubit 0 right-most).

    Occupies the lowest ``n_alpha`` alpha (even) and ``n_beta`` beta (odd) spin orbitals; under
    the parity mapping qubit k holds the parity of occupations 0..k.
    """
    mapping = _check_mapping(mapping)
    if n_alpha > n_qubits // 2 or n_beta > n_qubits // 2 or min(n_alpha, n_beta) < 0:
        raise ChemistryError(
            f"{n_alpha} alpha + {n_beta} beta electrons do not fit in {n_qubits} spin orbitals"
        )
    occ = [0] * n_qubits
    for p in range(n_alpha):
        occ[2 * p] = 1
    for p in range(n_beta):
        occ[2 * p + 1] = 1
    if mapping == "parity":
        occ = [sum(occ[: k + 1]) % 2 for k in range(n_qubits)]
    return "".join(str(b) for b in reversed(occ))
