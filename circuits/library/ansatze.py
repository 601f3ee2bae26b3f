"""Trainable layered ansaetze (PennyLane templates, hardware-efficient) as Qiskit circuits.

Weights form one ``ParameterVector`` (``"theta"`` unless named or passed). The flat weight
order is PennyLane's weight tensor flattened in C order, so values trained with a PennyLane
template can be reused with ``weights.reshape(-1)``. Qubit ``i`` is PennyLane wire ``i``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from qiskit import QuantumCircuit

from ..errors import ConfigurationError
from ._common import ParameterSpec, check_axis, check_int, choose, parameters, rotate

__all__ = ["basic_entangler_layers", "hardware_efficient", "strongly_entangling_layers"]

_TWO_QUBIT = {"cx": "cx", "cnot": "cx", "cz": "cz", "cy": "cy"}


def strongly_entangling_layers(
    n_qubits: int,
    n_layers: int,
    ranges: Sequence[int] | None = None,
    imprimitive: str = "cx",
    *,
    weights: ParameterSpec = "theta",
) -> QuantumCircuit:
    """PennyLane's ``StronglyEntanglingLayers`` (Schuld et al. 2020, circuit-centric classifier).

    Layer ``l``: ``Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi)`` on every qubit, then
    ``imprimitive(i, (i + r) % n)`` for ``i = 0..n-1`` with ``r = ranges[l]`` (default
    ``l % (n - 1) + 1``); no entanglers on one qubit. ``imprimitive`` is "cx", "cz" or "cy".
    Weight ``theta[(l * n + i) * 3 + k]`` is PennyLane's ``weights[l, i, k]``:
    ``3 * n_layers * n_qubits`` weights in all.
    """
    n = check_int(n_qubits, "n_qubits")
    n_l = check_int(n_layers, "n_layers")
    gate = choose(imprimitive, _TWO_QUBIT, "imprimitive")
    if ranges is None:
        rng = [(layer % (n - 1)) + 1 for layer in range(n_l)] if n > 1 else [0] * n_l
    else:
        try:
            rng = [check_int(r, "each range", minimum=0) for r in ranges]
        except TypeError:
            raise ConfigurationError(f"ranges must be a sequence of integers; got {ranges!r}") from None
        if len(rng) != n_l:
            raise ConfigurationError(f"ranges must have one entry per layer ({n_l}); got {len(rng)}")
        bad = [r for r in rng if n > 1 and r % n == 0]
        if bad:
            raise ConfigurationError(f"ranges must not be zero nor divisible by n_qubits={n}; got {bad[0]}")
    w = parameters(weights, 3 * n_l * n, "weights")
    qc = QuantumCircuit(n, name="strongly_entangling_layers")
    for layer in range(n_l):
        for q in range(n):
            phi, theta, omega = w[(layer * n + q) * 3 : (layer * n + q) * 3 + 3]
            qc.rz(phi, q)
            qc.ry(theta, q)
            qc.rz(omega, q)
        if n > 1:
            for q in range(n):
                getattr(qc, gate)(q, (q + rng[layer]) % n)
    return qc


def basic_entangler_layers(
    n_qubits: int,
    n_layers: int,
    rotation: str = "X",
    *,
    weights: ParameterSpec = "theta",
) -> QuantumCircuit:
    """PennyLane's ``BasicEntanglerLayers``: one-axis rotations, then a CNOT ring, per layer.

    Layer ``l``: ``R_rotation(theta[l * n + i])`` on qubit ``i``; then CNOT(0, 1) for two
    qubits, or ``CNOT(i, (i + 1) % n)`` for ``i = 0..n-1`` for three or more; nothing for one.
    ``n_layers * n_qubits`` weights.
    """
    n = check_int(n_qubits, "n_qubits")
    n_l = check_int(n_layers, "n_layers")
    axis = check_axis(rotation)
    w = parameters(weights, n_l * n, "weights")
    qc = QuantumCircuit(n, name="basic_entangler_layers")
    for layer in range(n_l):
        for q in range(n):
            rotate(qc, axis, w[layer * n + q], q)
        if n == 2:
            qc.cx(0, 1)
        elif n > 2:
            for q in range(n):
                qc.cx(q, (q + 1) % n)
    return qc


def _topology(kind: str, n: int) -> list[tuple[int, int]]:
    if kind == "full":
        return list(itertools.combinations(range(n), 2))
    linear = [(i, i + 1) for i in range(n - 1)]
    return linear + ([(n - 1, 0)] if kind == "ring" and n > 2 else [])


def hardware_efficient(
    n_qubits: int,
    n_layers: int,
    rotations: str | Sequence[str] = ("Y", "Z"),
    entangler: str = "cx",
    topology: str = "linear",
    *,
    final_rotations: bool = True,
    weights: ParameterSpec = "theta",
) -> QuantumCircuit:
    """Hardware-efficient ansatz (Kandala et al. 2017): rotation layers alternating with entanglers.

    Each of the ``n_layers`` layers applies, for each axis in ``rotations`` in turn, that
    rotation on every qubit, then ``entangler`` ("cx" or "cz") on the ``topology`` pairs:
    "linear" (i, i+1), "ring" (linear plus (n-1, 0) for n > 2) or "full" (all i < j).
    ``final_rotations`` adds one more rotation layer at the end (as Qiskit's ``EfficientSU2``),
    so entanglers never come last. Weights: ``len(rotations) * n_qubits`` per rotation layer,
    ordered layer, then axis, then qubit.
    """
    n = check_int(n_qubits, "n_qubits")
    n_l = check_int(n_layers, "n_layers")
    rot_seq = [rotations] if isinstance(rotations, str) else list(rotations)
    if not rot_seq:
        raise ConfigurationError("rotations must name at least one axis")
    axes = [check_axis(r, "rotation") for r in rot_seq]
    gate = choose(entangler, {"cx": "cx", "cnot": "cx", "cz": "cz"}, "entangler")
    pairs = _topology(choose(topology, {t: t for t in ("linear", "ring", "full")}, "topology"), n)
    n_rot = n_l + (1 if final_rotations else 0)
    w = parameters(weights, n_rot * len(axes) * n, "weights")
    qc = QuantumCircuit(n, name="hardware_efficient")
    pos = 0

    def rotation_layer() -> None:
        nonlocal pos
        for axis in axes:
            for q in range(n):
                rotate(qc, axis, w[pos], q)
                pos += 1

    for _ in range(n_l):
        rotation_layer()
        for a, b in pairs:
            getattr(qc, gate)(a, b)
    if final_rotations:
        rotation_layer()
    return qc
