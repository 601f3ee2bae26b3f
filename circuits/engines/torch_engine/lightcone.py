"""Backward light cones: expectation values of observables on few qubits simulate only the
gates that can influence them, on only the qubits those gates touch (exact for unitary
circuits started in ``|0...0>``: a gate outside the cone commutes with the observable's
Heisenberg-evolved form, and untouched qubits stay in a product state).

For a sum of Pauli terms the terms either share the cone of their union or are split into
groups of equal per-term cones, whichever simulates fewer amplitude-gate updates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from qiskit.quantum_info import PauliList, SparsePauliOp

from .program import Op

#: a reduction must save at least this fraction of the full cost to be used
MIN_SAVING = 0.10


@dataclass
class ConePart:
    """One reduced simulation: the cone's ops relabelled onto ``qubits`` (old labels, sorted)
    and each observable's terms in this part, restricted to those qubits."""

    qubits: tuple[int, ...]
    ops: list[Op]
    observables: list[SparsePauliOp]
    compiled: object = None  # the engine's Compiled for ``ops`` and PauliPlan for
    plan: object = None  # ``observables``, attached by the engine


@dataclass
class Reduction:
    """``<O_k> = constant[k] + sum over parts of <part.observables[k]>``."""

    parts: list[ConePart]
    constant: np.ndarray  # (n_obs,) coefficients of identity terms


def backward_cone(ops: list[Op], support: set[int]) -> tuple[list[int], set[int]]:
    """Indices (in time order) of the ops in the backward light cone of ``support`` and the
    qubits the cone covers. Global-phase ops never matter to an expectation value."""
    qubits = set(support)
    kept: list[int] = []
    for i in range(len(ops) - 1, -1, -1):
        op = ops[i]
        if op.kind == "phase":
            continue
        if qubits.intersection(op.qubits):
            qubits.update(op.qubits)
            kept.append(i)
    kept.reverse()
    return kept, qubits


#: an op on fewer amplitudes than this costs about as much as on this many (dispatch-bound)
FIXED_AMPLITUDES = 1 << 10


def _cost(ops: list[Op], kept: list[int], qubits: set[int]) -> float:
    # one pass over 2**k amplitudes per op, plus a fixed cost per op and per simulation (so tiny
    # registers are not split into many dispatch-bound runs); fusion changes the constant only
    return (len(kept) + 1) * float(2 ** len(qubits) + FIXED_AMPLITUDES)


def _restrict(obs: SparsePauliOp, rows: np.ndarray, qubits: tuple[int, ...]) -> SparsePauliOp:
    """Terms ``rows`` of ``obs`` on ``qubits`` only (the other qubits are identities there)."""
    k = len(qubits)
    if rows.size == 0:
        return SparsePauliOp("I" * k, coeffs=[0.0])
    cols = list(qubits)
    p = obs.paulis[rows]
    paulis = PauliList.from_symplectic(p.z[:, cols], p.x[:, cols], p.phase)
    return SparsePauliOp(paulis, coeffs=obs.coeffs[rows])


def _part(ops: list[Op], kept: list[int], qubits: set[int], observables, rows) -> ConePart:
    order = tuple(sorted(qubits))
    new = {q: j for j, q in enumerate(order)}
    body = [replace(ops[i], qubits=tuple(new[q] for q in ops[i].qubits), cache={}) for i in kept]
    obs = [_restrict(o, r, order) for o, r in zip(observables, rows, strict=True)]
    return ConePart(order, body, obs)


def reduce(ops: list[Op], n: int, observables: list[SparsePauliOp]) -> Reduction | None:
    """The cheapest exact reduction of ``<observables>`` on the unitary program ``ops`` of
    ``n`` qubits, or None when simulating everything is (nearly) as cheap."""
    supports: dict[tuple[int, ...], list[list[int]]] = {}
    constant = np.zeros(len(observables))
    for k, obs in enumerate(observables):
        if obs.num_qubits != n:
            return None  # the engine's own check reports the mismatch
        mask = obs.paulis.x | obs.paulis.z
        coeffs = obs.coeffs * (-1j) ** obs.paulis.phase
        for t in range(len(obs)):
            sup = tuple(np.flatnonzero(mask[t]).tolist())
            if not sup:
                constant[k] += float(coeffs[t].real)
                continue
            supports.setdefault(sup, [[] for _ in observables])[k].append(t)
    full = _cost(ops, list(range(len(ops))), set(range(n)))
    if not supports:
        return None  # identities only: the full path keeps the output attached to the graph
    union = set().union(*map(set, supports))
    kept_u, cone_u = backward_cone(ops, union)
    cost_u = _cost(ops, kept_u, cone_u)
    # per-term: terms whose cones cover the same qubits with the same ops share a simulation
    groups: dict[tuple, list] = {}
    for sup, rows in supports.items():
        kept, cone = backward_cone(ops, set(sup))
        key = (tuple(sorted(cone)), tuple(kept))
        g = groups.setdefault(key, [kept, cone, [[] for _ in observables]])
        for k in range(len(observables)):
            g[2][k].extend(rows[k])
    cost_t = sum(_cost(ops, kept, cone) for kept, cone, _ in groups.values())
    if min(cost_u, cost_t) > (1 - MIN_SAVING) * full:
        return None
    if cost_u <= cost_t:
        rows = [
            np.array(sorted(r for rs in supports.values() for r in rs[k]), dtype=np.int64)
            for k in range(len(observables))
        ]
        parts = [_part(ops, kept_u, cone_u, observables, rows)]
    else:
        parts = [
            _part(ops, kept, cone, observables, [np.array(sorted(r), dtype=np.int64) for r in rows])
            for kept, cone, rows in groups.values()
        ]
    return Reduction(parts, constant)
