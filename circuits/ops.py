"""Instructions ketml adds to Qiskit circuits: postselection."""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit.circuit import Instruction

from .errors import ConfigurationError


class Postselect(Instruction):
    """Project one qubit on ``|value>`` and renormalise; the engine reports the success probability."""

    def __init__(self, value: int = 0):
        if value not in (0, 1):
            raise ConfigurationError(f"postselection value must be 0 or 1, got {value!r}")
        super().__init__("postselect", 1, 0, [value])


def postselect(circuit: QuantumCircuit, qubit, value: int = 0) -> QuantumCircuit:
    """Append a postselection of ``qubit`` on ``value`` to ``circuit`` (returns it)."""
    circuit.append(Postselect(value), [qubit])
    return circuit
