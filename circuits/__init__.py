"""ketml's circuit core: Qiskit circuits in, torch tensors out, on any engine."""

from . import engines, qasm
from .api import expval, sample, statevector
from .layers import ParallelQuantumLayer, QuantumLayer
from .ops import Postselect, postselect

__all__ = [
    "ParallelQuantumLayer",
    "Postselect",
    "QuantumLayer",
    "engines",
    "expval",
    "postselect",
    "qasm",
    "sample",
    "statevector",
]
