"""The reservoir as Qiskit circuits: the fixed entangler, and the dynamic circuit (``measure`` +
``reset`` every step) that runs on Aer with shots and exports to IBM hardware.

Two entanglers, both inferred (the paper gives no circuit; its abstract says only that each
reservoir has "different rotation angles" that move the eigenvalues of the evolution):

* ``"ising"`` (default): ``layers`` Trotter steps of a random transverse-field Ising evolution
  for time ``angle``: ``RXX(2 angle J_ij / L)`` on every pair (``J_ij`` uniform in [-1, 1] from
  ``seed``), then ``RZ(2 angle h / L)`` on every qubit (``h = 1``); the rotation angles scale with
  ``angle``. The circuit *is* the reservoir (the channel is exact for it, not for exp(-iHt)).
* ``"ring"``: the summary's ``RX(angle)`` on every qubit, a CNOT ring, fixed random ``RZ``.

On 5 qubits with one measurement the Ising entangler reaches a memory capacity near 12 where the
ring stays near 5 (``benchmarks/results/repro_reservoir.md``), hence the default.
"""

from __future__ import annotations

import itertools

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import ParameterVector

from circuits.errors import ConfigurationError

__all__ = ["ENTANGLERS", "dynamic_circuit", "entangler", "record_means"]

ENTANGLERS = ("ising", "ring")


def entangler(n: int, angle: float, seed: int = 0, kind: str = "ising", layers: int = 3) -> QuantumCircuit:
    """The fixed step unitary on ``n`` qubits (see the module docstring for ``kind``)."""
    if kind not in ENTANGLERS:
        raise ConfigurationError(f"unknown entangler {kind!r}; known: {', '.join(ENTANGLERS)}")
    if layers < 1:
        raise ConfigurationError(f"layers must be >= 1; got {layers}")
    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(n, name=f"U({angle:.3g})")
    if kind == "ising":
        couplings = {pair: rng.uniform(-1, 1) for pair in itertools.combinations(range(n), 2)}
        for _ in range(layers):
            for (i, j), J in couplings.items():
                qc.rxx(2 * angle * J / layers, i, j)
            for q in range(n):
                qc.rz(2 * angle / layers, q)
        return qc
    phases = rng.uniform(0, 2 * np.pi, size=(layers, n))
    for layer in range(layers):
        for q in range(n):
            qc.rx(angle, q)
        for q in range(n - 1 if n == 2 else n):
            qc.cx(q, (q + 1) % n)
        for q in range(n):
            qc.rz(float(phases[layer, q]), q)
    return qc


def dynamic_circuit(
    n: int,
    steps: int,
    angle: float,
    *,
    data_qubits: int = 1,
    measurements: int = 1,
    seed: int = 0,
    kind: str = "ising",
    layers: int = 3,
    final_measure: bool = True,
) -> QuantumCircuit:
    """``steps`` reservoir steps as one circuit with inputs ``x`` (a ParameterVector of
    ``steps * data_qubits`` values in [0, 1], step-major): per step reset the data qubits,
    ``RY(pi x)``, the entangler, then measure qubits ``0..m-1`` into the classical register
    ``rec`` (bit ``t*m + i`` is qubit ``i`` at step ``t``) and reset them. With
    ``final_measure=False`` the last step stops before its measurement (to read its state)."""
    x = ParameterVector("x", steps * data_qubits)
    q = QuantumRegister(n, "q")
    rec = ClassicalRegister(steps * measurements, "rec")
    qc = QuantumCircuit(q, rec)
    u = entangler(n, angle, seed, kind, layers).to_instruction()
    for t in range(steps):
        for i in range(data_qubits):
            qc.reset(i)
            qc.ry(np.pi * x[t * data_qubits + i], i)
        qc.append(u, range(n))
        if t == steps - 1 and not final_measure:
            break
        for i in range(measurements):
            qc.measure(i, rec[t * measurements + i])
        for i in range(measurements):
            qc.reset(i)
    return qc


def record_means(counts: dict[str, int], steps: int, measurements: int) -> np.ndarray:
    """``(steps, m)``: the mean of ``Z`` (``+1`` for outcome 0) of each measured qubit at each
    step, from the counts of :func:`dynamic_circuit` (bit ``t*m + i``, right-most is bit 0)."""
    total = sum(counts.values())
    out = np.zeros(steps * measurements)
    for bits, c in counts.items():
        bits = bits.replace(" ", "")
        vals = np.array([1.0 - 2.0 * int(b) for b in reversed(bits[-steps * measurements :])])
        out += c * vals
    return (out / total).reshape(steps, measurements)
