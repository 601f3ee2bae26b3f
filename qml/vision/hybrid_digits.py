"""The demo's model: a small CNN, a variational circuit as bottleneck and a linear head, trained
on scikit-learn's 8 x 8 digits by ``ketml demo`` (its preset for ``digits``)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from circuits import QuantumLayer
from circuits.library import angle_encoding, strongly_entangling_layers
from qml.registry import Preset, register_model

#: the demo's setting: native 8 x 8 digits, 70/10/20 % train/validation/test, Adam with a cosine decay
DIGITS_PRESET = Preset(
    options={"n_qubits": 6, "n_layers": 4},
    train={
        "epochs": 30,
        "batch_size": 32,
        "lr": 0.01,
        "optimizer": "adam",
        "scheduler": "cosine",
        "val_fraction": 0.125,
    },
    data={"image_size": 8, "subset": 0},
)


@register_model(
    "hybrid-digits",
    tasks=("image-classification",),
    description="the demo: conv(16) -> conv(32) -> pool -> linear -> RY angles on n qubits + "
    "strongly entangling layers, <Z> each -> linear",
    defaults=DIGITS_PRESET.train,
    presets={"digits": DIGITS_PRESET},
)
class HybridDigitsClassifier(nn.Module):
    """Small CNN front end, a variational quantum circuit as bottleneck, a linear head.

    conv(1->16) -> conv(16->32) -> max-pool -> linear -> batch norm -> ``n_qubits`` angles ->
    RY angle encoding + ``n_layers`` strongly entangling layers, <Z> on every qubit -> linear."""

    def __init__(
        self,
        n_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 8,
        *,
        n_qubits: int = 6,
        n_layers: int = 4,
        engine: str = "torch",
        **engine_options: Any,
    ):
        super().__init__()
        side = image_size // 2
        self.front = nn.Sequential(
            nn.Conv2d(in_channels, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * side * side, n_qubits),
            nn.BatchNorm1d(n_qubits),  # angles of order 1 and spread out, whatever the seed
        )
        circuit = angle_encoding(n_qubits, "Y").compose(strongly_entangling_layers(n_qubits, n_layers))
        observables = ["I" * (n_qubits - 1 - q) + "Z" + "I" * q for q in range(n_qubits)]
        self.quantum = QuantumLayer(circuit, observables, engine=engine, **engine_options)
        self.head = nn.Linear(n_qubits, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.quantum(self.front(images)))
