"""Encodings and ansaetze the models are built from, as Qiskit circuits with symbolic parameters.

Inputs form a ``ParameterVector`` named ``"x"`` and weights one named ``"theta"`` unless the
caller passes ``inputs=`` / ``weights=`` (a name, a ``ParameterVector`` or a list of
``Parameter``s). Qubit ``i`` is PennyLane wire ``i``.
"""

from .ansatze import basic_entangler_layers, hardware_efficient, strongly_entangling_layers
from .encodings import amplitude_angles, amplitude_encoding, angle_encoding, iqp_encoding
from .sim_circuits import (
    SIM_CIRCUIT_NUMBERS,
    sim_circuit,
    sim_num_parameters,
    sim_two_qubit_gates,
)

__all__ = [
    "SIM_CIRCUIT_NUMBERS",
    "amplitude_angles",
    "amplitude_encoding",
    "angle_encoding",
    "basic_entangler_layers",
    "hardware_efficient",
    "iqp_encoding",
    "sim_circuit",
    "sim_num_parameters",
    "sim_two_qubit_gates",
    "strongly_entangling_layers",
]
