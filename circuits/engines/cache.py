"""Compile once per circuit structure: a structural hash and a small LRU cache every engine uses."""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterExpression
from qiskit.circuit.library import get_standard_gate_name_mapping

T = TypeVar("T")
_STANDARD = set(get_standard_gate_name_mapping())


def structure_key(circuit: QuantumCircuit) -> str:
    """A hash of everything that determines a circuit's compiled program."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{circuit.num_qubits},{circuit.num_clbits},{circuit.global_phase};".encode())
    h.update(",".join(p.name for p in circuit.parameters).encode())
    for inst in circuit.data:
        op = inst.operation
        h.update(op.name.encode())
        h.update(str([circuit.find_bit(q).index for q in inst.qubits]).encode())
        h.update(str([circuit.find_bit(c).index for c in inst.clbits]).encode())
        for p in op.params:
            if isinstance(p, np.ndarray):
                h.update(p.tobytes())
            elif isinstance(p, QuantumCircuit):
                h.update(structure_key(p).encode())
            elif isinstance(p, ParameterExpression):
                h.update(f"<{p}>".encode())
            else:
                h.update(repr(p).encode())
        if op.name not in _STANDARD and getattr(op, "definition", None) is not None:
            h.update(structure_key(op.definition).encode())
        if hasattr(op, "ctrl_state"):
            h.update(str(op.ctrl_state).encode())
        condition = getattr(op, "condition", None)
        if condition is not None:
            h.update(repr(condition).encode())
    return h.hexdigest()


class CompileCache(Generic[T]):
    """``cache(circuit)`` returns ``build(circuit)``, built once per structure.

    The same circuit object seen again (and not grown since) skips even the
    structural hash, so a training loop pays nothing per step.
    """

    def __init__(self, build: Callable[[QuantumCircuit], T], size: int = 256):
        self.build = build
        self.size = size
        self._by_key: OrderedDict[str, T] = OrderedDict()
        self._recent: dict[int, tuple] = {}

    def __call__(self, circuit: QuantumCircuit) -> T:
        recent = self._recent.get(id(circuit))
        stamp = (len(circuit.data), circuit.num_parameters, str(circuit.global_phase))
        if recent is not None and recent[0]() is circuit and recent[1] == stamp:
            return recent[2]
        key = structure_key(circuit)
        item = self._by_key.get(key)
        if item is None:
            item = self.build(circuit)
            self._by_key[key] = item
            if len(self._by_key) > self.size:
                self._by_key.popitem(last=False)
        else:
            self._by_key.move_to_end(key)
        if len(self._recent) > 4 * self.size:
            self._recent.clear()
        self._recent[id(circuit)] = (weakref.ref(circuit), stamp, item)
        return item

    def clear(self) -> None:
        self._by_key.clear()
        self._recent.clear()
