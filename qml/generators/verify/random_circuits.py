"""Random circuits matched to real ones: the baseline that fold 2 and fold 3 compare against.

``matched`` (default): for each real circuit a sequence of as many gates on as many qubits, the
gate names drawn from the reference circuits' own gate frequencies (standard gates only), qubits
uniformly at random, angles uniform in [0, 2 pi); only the structure differs from the real ones.
``qiskit``: ``qiskit.circuit.random.random_circuit`` with up to two-qubit gates, cut to the same
gate count (the paper's baseline).
"""

from __future__ import annotations

import math
import random
from collections import Counter

from circuits.errors import ConfigurationError

__all__ = ["KINDS", "gate_frequencies", "random_like"]

KINDS = ("matched", "qiskit")


def gate_frequencies(circuits) -> dict[str, float]:
    """Relative frequency of each standard gate (up to two qubits) over ``circuits``."""
    from qiskit.circuit.library import get_standard_gate_name_mapping

    standard = get_standard_gate_name_mapping()
    counts: Counter = Counter()
    for c in circuits:
        for inst in c.data:
            name = inst.operation.name
            if name in standard and 1 <= standard[name].num_qubits <= 2 and name not in ("measure", "reset"):
                counts[name] += 1
    total = sum(counts.values())
    if not total:
        return {"h": 0.5, "cx": 0.5}
    return {k: v / total for k, v in sorted(counts.items())}


def _matched(num_qubits: int, n_gates: int, freqs: dict[str, float], rng: random.Random):
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import get_standard_gate_name_mapping

    standard = get_standard_gate_name_mapping()
    names = [n for n in freqs if standard[n].num_qubits <= num_qubits]
    if not names:
        names = ["h"]
    weights = [freqs.get(n, 1.0) for n in names]
    qc = QuantumCircuit(num_qubits)
    for name in rng.choices(names, weights, k=n_gates):
        template = standard[name]
        qubits = rng.sample(range(num_qubits), template.num_qubits)
        params = [rng.uniform(0, 2 * math.pi) for _ in template.params]
        gate = template.base_class(*params) if params else template.base_class()
        qc.append(gate, qubits)
    return qc


def _qiskit(num_qubits: int, n_gates: int, rng: random.Random):
    from qiskit import QuantumCircuit
    from qiskit.circuit.random import random_circuit

    depth = max(1, math.ceil(2 * n_gates / max(num_qubits, 1)) + 1)
    while True:
        qc = random_circuit(num_qubits, depth, max_operands=min(2, num_qubits), seed=rng.randrange(2**31))
        if len(qc.data) >= n_gates:
            break
        depth *= 2
    out = QuantumCircuit(num_qubits)
    for inst in qc.data[:n_gates]:
        out.append(inst.operation, [qc.find_bit(q).index for q in inst.qubits])
    return out


def random_like(shapes: list[tuple[int, int]], freqs: dict[str, float], kind: str = "matched", seed: int = 0):
    """One random ``QuantumCircuit`` per ``(qubits, gates)`` in ``shapes``."""
    if kind not in KINDS:
        raise ConfigurationError(f"random kind must be one of {KINDS}; got {kind!r}")
    rng = random.Random(seed)
    make = _matched if kind == "matched" else (lambda n, g, f, r: _qiskit(n, g, r))
    return [make(max(n, 1), max(g, 1), freqs, rng) for n, g in shapes]
