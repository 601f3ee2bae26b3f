"""Normalise observables (SparsePauliOp, Pauli labels, lists of them) to a list of SparsePauliOp."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qiskit.quantum_info import Pauli, SparsePauliOp

from .errors import ObservableError

ObservableLike = SparsePauliOp | Pauli | str | Sequence["SparsePauliOp | Pauli | str"]


def _one(obs: SparsePauliOp | Pauli | str, n_qubits: int) -> SparsePauliOp:
    if isinstance(obs, str):
        label = obs.strip()
        if not label or any(c not in "IXYZ" for c in label.upper()):
            raise ObservableError(
                f"bad Pauli label {obs!r}: use the letters I, X, Y, Z (qubit 0 is the right-most)"
            )
        op = SparsePauliOp(label.upper())
    elif isinstance(obs, Pauli):
        op = SparsePauliOp(obs)
    elif isinstance(obs, SparsePauliOp):
        op = obs
    else:
        raise ObservableError(
            f"observable of type {type(obs).__name__} is not supported; "
            "give a SparsePauliOp, a Pauli or a Pauli label string"
        )
    if op.coeffs.dtype != object and not np.isfinite(op.coeffs).all():
        raise ObservableError(f"observable {pauli_label(op)} has a NaN or infinite coefficient")
    if op.num_qubits != n_qubits:
        raise ObservableError(f"observable acts on {op.num_qubits} qubit(s) but the circuit has {n_qubits}")
    return op


def as_observables(observables: ObservableLike, n_qubits: int) -> list[SparsePauliOp]:
    """Return ``observables`` as a non-empty list of ``SparsePauliOp`` on ``n_qubits`` qubits."""
    if isinstance(observables, (str, Pauli, SparsePauliOp)):
        return [_one(observables, n_qubits)]
    try:
        items = list(observables)
    except TypeError:
        raise ObservableError(f"observables of type {type(observables).__name__} are not supported") from None
    if not items:
        raise ObservableError("no observables were given")
    return [_one(o, n_qubits) for o in items]


def pauli_label(op: SparsePauliOp) -> str:
    """An observable as text: its Pauli label (qubit 0 right-most) when it is one term with
    coefficient 1, else a sum such as ``0.5*ZZ + -1*XI``."""
    terms = op.to_list()
    if len(terms) == 1 and complex(terms[0][1]) == 1:
        return terms[0][0]
    return " + ".join(f"{complex(c).real:g}*{label}" for label, c in terms)
