"""``vqc``: the registered VQC classifier of the federated family.

inputs ``(B, ...)`` flattened -> (``inputs="linear"``: a trainable linear map to one angle per
qubit, ``pi * tanh``; ``"direct"``: the first ``qubits`` features used as angles) -> the circuit of
:func:`.circuit.vqc_circuit` -> <Z> on every qubit -> linear head -> class logits.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from circuits import QuantumLayer
from circuits.errors import ConfigurationError
from qml.registry import Preset, register_model

from .circuit import ENCODINGS, vqc_circuit

__all__ = ["VQCClassifier", "z_observables"]

INPUT_MAPS = ("linear", "direct")


def z_observables(n_qubits: int) -> list[str]:
    """``Z`` on each qubit, qubit 0 right-most."""
    return ["I" * (n_qubits - 1 - q) + "Z" + "I" * q for q in range(n_qubits)]


def _n_features(dims: dict[str, Any]) -> int:
    if "n_features" in dims:
        return int(dims["n_features"])
    return int(dims.get("in_channels", 1)) * int(dims.get("image_size", 1)) ** 2


class VQCClassifier(nn.Module):
    """A VQC with an expressive encoding (``encoding`` in angle / repeated / exponential, of
    ``degree``) and a ``layers``-deep hardware-efficient ansatz on ``qubits`` qubits."""

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        *,
        qubits: int = 6,
        encoding: str = "repeated",
        degree: int = 2,
        layers: int = 4,
        inputs: str = "linear",
        engine: str = "torch",
        seed: int | None = None,
        **engine_options: Any,
    ):
        super().__init__()
        if encoding not in ENCODINGS:
            raise ConfigurationError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
        if inputs not in INPUT_MAPS:
            raise ConfigurationError(f"inputs must be one of {', '.join(INPUT_MAPS)}; got {inputs!r}")
        if inputs == "direct" and n_features < qubits:
            raise ConfigurationError(
                f"inputs='direct' feeds one feature per qubit: {n_features} features < {qubits} qubits"
            )
        if n_classes < 2:
            raise ConfigurationError(f"need at least 2 classes; got {n_classes}")
        self.options = dict(qubits=qubits, encoding=encoding, degree=degree, layers=layers, inputs=inputs)
        self.n_features, self.n_classes = n_features, n_classes
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.encoder = nn.Linear(n_features, qubits) if inputs == "linear" else None
        circuit = vqc_circuit(qubits, encoding, degree, layers)
        n_w = sum(1 for p in circuit.parameters if p.name.startswith("theta"))
        init = (torch.rand(n_w, generator=gen) * 2 - 1) * math.pi
        self.quantum = QuantumLayer(
            circuit, z_observables(qubits), engine=engine, initial_weights=init, **engine_options
        )
        self.head = nn.Linear(qubits, n_classes)
        if gen is not None:  # reproducible classical layers, independent of the global RNG
            for layer in (self.encoder, self.head):
                if layer is not None:
                    bound = 1 / math.sqrt(layer.in_features)
                    with torch.no_grad():
                        layer.weight.uniform_(-bound, bound, generator=gen)
                        layer.bias.uniform_(-bound, bound, generator=gen)

    def angles(self, x: torch.Tensor) -> torch.Tensor:
        """The encoding angles ``(B, qubits)`` of a batch."""
        x = x.reshape(len(x), -1).to(torch.get_default_dtype())
        if self.encoder is None:
            return x[:, : self.options["qubits"]]
        return math.pi * torch.tanh(self.encoder(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.quantum(self.angles(x)))


def _build(dims: dict[str, Any], *, engine: str = "torch", **options: Any) -> nn.Module:
    return VQCClassifier(_n_features(dims), int(dims["n_classes"]), engine=engine, **options)


_TRAIN = {"epochs": 30, "batch_size": 32, "lr": 0.02, "optimizer": "adam", "val_fraction": 0.0}
register_model(
    "vqc",
    tasks=("image-classification", "vector-classification"),
    build=_build,
    description="VQC with an expressive encoding (angle / repeated / exponential RX blocks, degree) "
    "and a hardware-efficient ansatz, <Z> per qubit -> linear; the federated family's model "
    "(Kumar et al. 2023); options qubits, encoding, degree, layers, inputs",
    defaults=_TRAIN,
    presets={"digits": Preset(data={"image_size": 8})},
    cli_options={
        "qubits": (int, "Qubits (one encoded angle each).", "qubits"),
        "encoding": (str, "angle, repeated or exponential.", "encoding"),
        "degree": (int, "Encoding blocks (frequency degree).", "degree"),
        "layers": (int, "Ansatz layers (2 * qubits weights each).", "layers"),
    },
)
