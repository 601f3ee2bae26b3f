"""The VQC of the federated family: an expressive encoding S(x) then an overparameterised ansatz
W(theta), f(x; theta) = <O> on W S(x)|0> (Kumar et al., arXiv 2309.13002, section "Setting").

Encodings (per feature ``x_j`` on qubit ``j``, each block followed by a fixed CZ ring):

* ``angle``: one ``RX(x_j)`` (degree 1: the shallow, invertible regime);
* ``repeated``: ``degree`` blocks of ``RX(x_j)`` (frequencies up to ``degree``);
* ``exponential``: blocks ``RX(2**k x_j)``, ``k = 0..degree-1`` (frequencies up to ``2**degree - 1``).

The ansatz is :func:`circuits.library.hardware_efficient` (RY, RZ layers, CZ ring); it is
*overparameterised* when its parameter count reaches ``4**n - 1``, the dimension of su(2**n),
which bounds the dynamical Lie algebra of any ansatz on ``n`` qubits.
"""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector

from circuits.errors import ConfigurationError
from circuits.library import hardware_efficient

__all__ = [
    "ENCODINGS",
    "ansatz_parameters",
    "encoding_circuit",
    "max_frequency",
    "overparameterised_layers",
    "vqc_circuit",
]

ENCODINGS = ("angle", "repeated", "exponential")


def _check(encoding: str, degree: int, n_qubits: int) -> None:
    if encoding not in ENCODINGS:
        raise ConfigurationError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    if not isinstance(degree, int) or degree < 1:
        raise ConfigurationError(f"degree must be an integer >= 1; got {degree!r}")
    if encoding == "angle" and degree != 1:
        raise ConfigurationError("the angle encoding has degree 1; use 'repeated' or 'exponential'")
    if not isinstance(n_qubits, int) or n_qubits < 1:
        raise ConfigurationError(f"qubits must be an integer >= 1; got {n_qubits!r}")


def max_frequency(encoding: str, degree: int) -> int:
    """Largest frequency of x_j in f(x): 1, ``degree`` or ``2**degree - 1``."""
    return {"angle": 1, "repeated": degree, "exponential": 2**degree - 1}[encoding]


def encoding_circuit(n_qubits: int, encoding: str = "repeated", degree: int = 2) -> QuantumCircuit:
    """S(x) with inputs ``x`` (one per qubit): ``degree`` RX blocks, each followed by a CZ ring."""
    _check(encoding, degree, n_qubits)
    x = ParameterVector("x", n_qubits)
    qc = QuantumCircuit(n_qubits, name=f"{encoding}_encoding")
    for k in range(degree):
        scale = 2**k if encoding == "exponential" else 1
        for q in range(n_qubits):
            qc.rx(x[q] if scale == 1 else scale * x[q], q)
        if n_qubits > 1 and encoding != "angle":
            for q in range(n_qubits if n_qubits > 2 else 1):
                qc.cz(q, (q + 1) % n_qubits)
    return qc


def ansatz_parameters(n_qubits: int, layers: int) -> int:
    """Weights of the ansatz: ``2 * n_qubits`` per layer (RY and RZ on every qubit)."""
    return 2 * n_qubits * layers


def overparameterised_layers(n_qubits: int) -> int:
    """Fewest ansatz layers with at least ``4**n - 1`` weights."""
    return -(-(4**n_qubits - 1) // (2 * n_qubits))


def vqc_circuit(
    n_qubits: int, encoding: str = "repeated", degree: int = 2, layers: int = 2
) -> QuantumCircuit:
    """S(x) followed by ``layers`` hardware-efficient layers; inputs ``x``, weights ``theta``."""
    if not isinstance(layers, int) or layers < 1:
        raise ConfigurationError(f"layers must be an integer >= 1; got {layers!r}")
    qc = encoding_circuit(n_qubits, encoding, degree)
    ansatz = hardware_efficient(
        n_qubits, layers, ("Y", "Z"), "cz", "ring", final_rotations=False, weights="theta"
    )
    qc.compose(ansatz, inplace=True)
    return qc
