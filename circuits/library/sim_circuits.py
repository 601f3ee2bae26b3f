"""The 19 parametrised circuits of Sim, Johnson & Aspuru-Guzik (2019), for any qubit count.

S. Sim, P. D. Johnson, A. Aspuru-Guzik, "Expressibility and entangling capability of
parameterized quantum circuits for hybrid quantum-classical algorithms", Adv. Quantum
Technol. 2, 1900070 (2019), arXiv:1905.10876, Fig. 2. The paper draws 4-qubit circuits,
qubit 0 on top; here qubit ``i`` is the paper's ``i``-th wire from the top, and every
circuit reproduces the figure exactly for ``n_qubits=4`` and extends its pattern to ``n``:

* "ladder": 2-qubit gates ``(i -> i-1)`` for ``i = n-1 .. 1`` (control ``i``, target ``i-1``);
* "ring": ``(i -> (i+1) % n)`` for ``i = n-1 .. 0`` (Fig. 2 circuits 13-15, 18, 19, first block);
* "ring back": controls ``n-1, 0, 1, .., n-2``, each onto ``(c-1) % n`` (range n-1,
  the second block of circuits 13-15);
* "even"/"odd" pairs: ``(i+1 -> i)`` for even / odd ``i`` (the checkerboard of circuits
  7, 8, 11, 12, 16, 17).

Parameters per layer (n qubits; the paper's count for n=4 in brackets) and 2-qubit gates:

====  =========================  ==================  ======================================
 #    parameters per layer       2-qubit gates       structure of one layer
====  =========================  ==================  ======================================
 1    2n            [8]          0                   RX, RZ
 2    2n            [8]          n-1 CX              RX, RZ, CX ladder
 3    3n-1          [11]         n-1 CRZ             RX, RZ, CRZ ladder
 4    3n-1          [11]         n-1 CRX             RX, RZ, CRX ladder
 5    n^2+3n        [28]         n(n-1) CRZ          RX, RZ, CRZ all-to-all, RX, RZ
 6    n^2+3n        [28]         n(n-1) CRX          RX, RZ, CRX all-to-all, RX, RZ
 7    5n-1          [19]         n-1 CRZ             RX, RZ, CRZ even, RX, RZ, CRZ odd
 8    5n-1          [19]         n-1 CRX             RX, RZ, CRX even, RX, RZ, CRX odd
 9    n             [4]          n-1 CZ              H, CZ ladder, RX
 10   n (+ n once)  [8]          n CZ (1 for n=2)    RY once, then per layer: CZ ring, RY
 11   2n+2m         [12]         n-1 CX              RY, RZ, CX even, RY, RZ on m inner, CX odd
 12   2n+2m         [12]         n-1 CZ              as 11 with CZ
 13   4n            [16]         2n CRZ              RY, CRZ ring, RY, CRZ ring back
 14   4n            [16]         2n CRX              RY, CRX ring, RY, CRX ring back
 15   2n            [8]          2n CX               RY, CX ring, RY, CX ring back
 16   3n-1          [11]         n-1 CRZ             RX, RZ, CRZ even, CRZ odd
 17   3n-1          [11]         n-1 CRX             RX, RZ, CRX even, CRX odd
 18   3n            [12]         n CRZ               RX, RZ, CRZ ring
 19   3n            [12]         n CRX               RX, RZ, CRX ring
====  =========================  ==================  ======================================

``m = 2 * ((n - 1) // 2)`` is the number of qubits touched by the odd pairs. In the paper's
Fig. 2 the initial RY column of circuit 10 sits outside the repeated (dashed) block, so
circuit 10 has ``n * (layers + 1)`` parameters; all other circuits repeat the whole figure.
All circuits except 1 need at least two qubits. Parameters are consumed in gate order.
"""

from __future__ import annotations

from collections.abc import Iterator

from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from ..errors import ConfigurationError
from ._common import ParameterSpec, check_int, parameters

__all__ = ["SIM_CIRCUIT_NUMBERS", "sim_circuit", "sim_num_parameters", "sim_two_qubit_gates"]

SIM_CIRCUIT_NUMBERS: tuple[int, ...] = tuple(range(1, 20))


def _check(number: int, n_qubits: int, layers: int) -> tuple[int, int, int]:
    if isinstance(number, bool) or number not in SIM_CIRCUIT_NUMBERS:
        raise ConfigurationError(f"Sim et al. circuits are numbered 1 to 19; got {number!r}")
    num = int(number)
    n = check_int(n_qubits, "n_qubits", minimum=1 if num == 1 else 2)
    return num, n, check_int(layers, "layers")


def sim_num_parameters(number: int, n_qubits: int, layers: int = 1) -> int:
    """Number of parameters of ``sim_circuit(number, n_qubits, layers)`` (see the module table)."""
    num, n, n_l = _check(number, n_qubits, layers)
    m = 2 * ((n - 1) // 2)
    per_layer = {
        1: 2 * n,
        2: 2 * n,
        3: 3 * n - 1,
        4: 3 * n - 1,
        5: n * n + 3 * n,
        6: n * n + 3 * n,
        7: 5 * n - 1,
        8: 5 * n - 1,
        9: n,
        10: n,
        11: 2 * n + 2 * m,
        12: 2 * n + 2 * m,
        13: 4 * n,
        14: 4 * n,
        15: 2 * n,
        16: 3 * n - 1,
        17: 3 * n - 1,
        18: 3 * n,
        19: 3 * n,
    }[num]
    return per_layer * n_l + (n if num == 10 else 0)


def sim_two_qubit_gates(number: int, n_qubits: int, layers: int = 1) -> dict[str, int]:
    """Two-qubit gate counts by Qiskit gate name, e.g. ``{"crz": 6}`` (see the module table)."""
    num, n, n_l = _check(number, n_qubits, layers)
    count = {
        1: 0,
        2: n - 1,
        3: n - 1,
        4: n - 1,
        5: n * (n - 1),
        6: n * (n - 1),
        7: n - 1,
        8: n - 1,
        9: n - 1,
        10: n if n > 2 else 1,
        11: n - 1,
        12: n - 1,
        13: 2 * n,
        14: 2 * n,
        15: 2 * n,
        16: n - 1,
        17: n - 1,
        18: n,
        19: n,
    }[num]
    if num == 1:
        return {}
    return {_ENTANGLER[num]: count * n_l}


_ENTANGLER = {
    2: "cx",
    3: "crz",
    4: "crx",
    5: "crz",
    6: "crx",
    7: "crz",
    8: "crx",
    9: "cz",
    10: "cz",
    11: "cx",
    12: "cz",
    13: "crz",
    14: "crx",
    15: "cx",
    16: "crz",
    17: "crx",
    18: "crz",
    19: "crx",
}


# --- pair patterns: (control, target) lists for n qubits


def _ladder(n: int) -> list[tuple[int, int]]:
    return [(i, i - 1) for i in range(n - 1, 0, -1)]


def _ring(n: int) -> list[tuple[int, int]]:
    return [(i, (i + 1) % n) for i in range(n - 1, -1, -1)]


def _ring_back(n: int) -> list[tuple[int, int]]:
    return [(c, (c - 1) % n) for c in [n - 1, *range(n - 1)]]


def _pairs(n: int, parity: int) -> list[tuple[int, int]]:
    return [(i + 1, i) for i in range(parity, n - 1, 2)]


def _all_to_all(n: int) -> list[tuple[int, int]]:
    return [(c, t) for c in range(n - 1, -1, -1) for t in range(n - 1, -1, -1) if t != c]


class _Builder:
    """Appends gates to a circuit, taking parameters from one iterator in gate order."""

    def __init__(self, qc: QuantumCircuit, params: list[Parameter]) -> None:
        self.qc = qc
        self.params: Iterator[Parameter] = iter(params)

    def rot(self, gate: str, qubits: range | list[int]) -> None:
        for q in qubits:
            getattr(self.qc, gate)(next(self.params), q)

    def two(self, gate: str, pairs: list[tuple[int, int]]) -> None:
        for c, t in pairs:
            if gate in ("crx", "crz"):
                getattr(self.qc, gate)(next(self.params), c, t)
            else:
                getattr(self.qc, gate)(c, t)


def _layer(num: int, b: _Builder, n: int) -> None:
    q = range(n)
    ent = _ENTANGLER.get(num, "")
    if num in (1, 2, 3, 4):
        b.rot("rx", q)
        b.rot("rz", q)
        if num > 1:
            b.two(ent, _ladder(n))
    elif num in (5, 6):
        b.rot("rx", q)
        b.rot("rz", q)
        b.two(ent, _all_to_all(n))
        b.rot("rx", q)
        b.rot("rz", q)
    elif num in (7, 8):
        b.rot("rx", q)
        b.rot("rz", q)
        b.two(ent, _pairs(n, 0))
        b.rot("rx", q)
        b.rot("rz", q)
        b.two(ent, _pairs(n, 1))
    elif num == 9:
        for i in q:
            b.qc.h(i)
        b.two("cz", _ladder(n))
        b.rot("rx", q)
    elif num == 10:
        b.two("cz", _ladder(n) + ([(n - 1, 0)] if n > 2 else []))
        b.rot("ry", q)
    elif num in (11, 12):
        b.rot("ry", q)
        b.rot("rz", q)
        b.two(ent, _pairs(n, 0))
        inner = sorted({i for pair in _pairs(n, 1) for i in pair})
        b.rot("ry", inner)
        b.rot("rz", inner)
        b.two(ent, _pairs(n, 1))
    elif num in (13, 14, 15):
        b.rot("ry", q)
        b.two(ent, _ring(n))
        b.rot("ry", q)
        b.two(ent, _ring_back(n))
    elif num in (16, 17):
        b.rot("rx", q)
        b.rot("rz", q)
        b.two(ent, _pairs(n, 0))
        b.two(ent, _pairs(n, 1))
    else:  # 18, 19
        b.rot("rx", q)
        b.rot("rz", q)
        b.two(ent, _ring(n))


def sim_circuit(
    number: int,
    n_qubits: int,
    layers: int = 1,
    *,
    weights: ParameterSpec = "theta",
) -> QuantumCircuit:
    """Circuit ``number`` (1-19) of Sim et al. 2019, Fig. 2, on ``n_qubits`` with ``layers`` layers.

    See the module docstring for each circuit's structure, its generalisation beyond four
    qubits and its parameter count (also :func:`sim_num_parameters`).
    """
    num, n, n_l = _check(number, n_qubits, layers)
    params = parameters(weights, sim_num_parameters(num, n, n_l), "weights")
    qc = QuantumCircuit(n, name=f"sim_circuit_{num}")
    b = _Builder(qc, params)
    if num == 10:
        b.rot("ry", range(n))
    for _ in range(n_l):
        _layer(num, b, n)
    if next(b.params, None) is not None:  # pragma: no cover - guards the count table
        raise AssertionError(f"sim circuit {num}: parameter count table is inconsistent")
    return qc
