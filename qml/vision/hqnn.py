"""HQNN-Parallel and HQNN-Quanv (Senokosov et al., "Quantum machine learning for image
classification", arXiv 2304.09224) and the classical twins they are compared against.

HQNN-Parallel: a CNN feature extractor gives ``n_circuits * n_qubits`` features; each group of
``n_qubits`` goes through its own circuit (RX encoding, strongly entangling layers with ranges
1, 2, 3, ..., ``<Y_i>`` readout: Y, not Z, as in the paper); the outputs are concatenated into
a linear head. The parallel circuits are one batched engine call.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from circuits import ParallelQuantumLayer
from circuits.errors import ConfigurationError
from circuits.library import angle_encoding, strongly_entangling_layers
from qml.registry import register_model

from .normalize import Normalize
from .quanvolution import Quanvolution

IMAGE = ("image-classification",)
#: training settings of arXiv 2304.09224 for HQNN-Parallel and its twin
PARALLEL_TRAINING = {"epochs": 10, "batch_size": 64, "lr": 1e-3, "optimizer": "adam", "scheduler": "cosine"}
#: ... and for HQNN-Quanv (600 training images, as the paper's small-data setting)
QUANV_TRAINING = {
    "epochs": 40,
    "batch_size": 4,
    "lr": 3e-3,
    "optimizer": "sgd",
    "momentum": 0.9,
    "val_fraction": 1 / 6,
}

__all__ = ["HQNNParallel", "HQNNParallelClassical", "HQNNQuanv", "HQNNQuanvClassical", "parallel_circuit"]


def parallel_circuit(n_qubits: int = 5, n_layers: int = 3):
    """One HQNN-Parallel circuit: ``RX(x_i)`` on qubit ``i``, then strongly entangling layers
    whose CNOT ranges are 1, 2, 3, ... (cycling through ``1..n-1``)."""
    ranges = [(layer % max(n_qubits - 1, 1)) + 1 for layer in range(n_layers)] if n_qubits > 1 else None
    return angle_encoding(n_qubits, "X").compose(strongly_entangling_layers(n_qubits, n_layers, ranges))


def _pauli(letter: str, q: int, n: int) -> str:
    return "I" * (n - 1 - q) + letter + "I" * q


class _ParallelTrunk(nn.Module):
    """Conv(5x5, 16) - BN - ReLU - pool - Conv(5x5, 32) - BN - ReLU - pool - FC(120) - FC(features)."""

    def __init__(self, in_channels: int, image_size: int, n_features: int, hidden: int, dataset: str | None):
        super().__init__()
        side = image_size // 4
        self.net = nn.Sequential(
            Normalize.for_dataset(dataset, in_channels),
            nn.Conv2d(in_channels, 16, kernel_size=5, padding=2),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=5, padding=2),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * side * side, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_features),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@register_model(
    "hqnn-parallel",
    tasks=IMAGE,
    description="CNN + 4 parallel 5-qubit circuits (RX, 3 SEL layers, <Y>) + linear (arXiv 2304.09224)",
    defaults=PARALLEL_TRAINING,
    twin="hqnn-parallel-classical",
)
class HQNNParallel(nn.Module):
    """HQNN-Parallel: CNN trunk -> ``n_circuits`` independent ``n_qubits``-qubit circuits -> linear.

    Images ``(B, C, H, W)`` in [0, 1] (normalised inside with the dataset's statistics); logits
    ``(B, n_classes)``. Quantum weights ``n_circuits * n_layers * n_qubits * 3`` (180 by default),
    initialised uniform in [0, 2 pi).
    """

    def __init__(
        self,
        n_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 28,
        *,
        n_circuits: int = 4,
        n_qubits: int = 5,
        n_layers: int = 3,
        readout: str = "Y",
        hidden: int = 120,
        dataset: str | None = "mnist",
        engine: str = "torch",
        **engine_options,
    ):
        super().__init__()
        if readout not in ("X", "Y", "Z"):
            raise ConfigurationError(f"readout must be 'X', 'Y' or 'Z'; got {readout!r}")
        width = n_circuits * n_qubits
        self.features = _ParallelTrunk(in_channels, image_size, width, hidden, dataset)
        circuit = parallel_circuit(n_qubits, n_layers)
        observables = [_pauli(readout, q, n_qubits) for q in range(n_qubits)]
        self.quantum = ParallelQuantumLayer(circuit, observables, n_circuits, engine=engine, **engine_options)
        self.head = nn.Linear(width, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.quantum(self.features(images)))


@register_model(
    "hqnn-parallel-classical",
    tasks=IMAGE,
    description="HQNN-Parallel with the circuits replaced by Linear(20, 20)",
    quantum=False,
    defaults=PARALLEL_TRAINING,
)
class HQNNParallelClassical(nn.Module):
    """HQNN-Parallel's classical twin: the quantum block replaced by ``Linear(20 -> 20)``."""

    def __init__(
        self,
        n_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 28,
        *,
        n_circuits: int = 4,
        n_qubits: int = 5,
        hidden: int = 120,
        dataset: str | None = "mnist",
    ):
        super().__init__()
        width = n_circuits * n_qubits
        self.features = _ParallelTrunk(in_channels, image_size, width, hidden, dataset)
        self.middle = nn.Linear(width, width)
        self.head = nn.Linear(width, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.middle(self.features(images)))


@register_model(
    "hqnn-quanv",
    tasks=IMAGE,
    description="2x2 quanvolution (4 qubits, 4 layers) on 14x14 images + linear (arXiv 2304.09224)",
    defaults=QUANV_TRAINING,
    subset=600,
    twin="hqnn-quanv-classical",
)
class HQNNQuanv(nn.Module):
    """HQNN-Quanv: image downsampled by 2 (28 -> 14), 2x2 stride-2 quanvolution (4 qubits,
    4 basic entangler layers, pixels x pi as RY angles), flatten, ``Linear(196 -> n_classes)``."""

    def __init__(
        self,
        n_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 28,
        *,
        kernel_size: int = 2,
        n_layers: int = 4,
        downsample: int = 2,
        dataset: str | None = None,
        engine: str = "torch",
        **engine_options,
    ):
        super().__init__()
        self.downsample = downsample
        side = image_size // downsample
        self.quanv = Quanvolution(
            in_channels, kernel_size, kernel_size, n_layers, scale=math.pi, engine=engine, **engine_options
        )
        n_out = self.quanv.out_channels * (side // kernel_size) ** 2
        self.head = nn.Linear(n_out, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(images, self.downsample) if self.downsample > 1 else images
        return self.head(self.quanv(x).flatten(1))


@register_model(
    "hqnn-quanv-classical",
    tasks=IMAGE,
    description="CNN4: Conv2d(4 channels, 4x4, stride 4) + linear, HQNN-Quanv's classical twin",
    quantum=False,
    defaults=QUANV_TRAINING,
    subset=600,
)
class HQNNQuanvClassical(nn.Module):
    """HQNN-Quanv's classical twin (CNN4 of the reproductions): ``Conv2d(C, 4, 4, stride 4)``
    on the full image, flatten, ``Linear(196 -> n_classes)``: about the same parameter count."""

    def __init__(
        self,
        n_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 28,
        *,
        channels: int = 4,
        dataset: str | None = None,
    ):
        super().__init__()
        self.normalize = Normalize.for_dataset(dataset, in_channels)
        self.conv = nn.Conv2d(in_channels, channels, kernel_size=4, stride=4)
        self.head = nn.Linear(channels * (image_size // 4) ** 2, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(self.normalize(images)).flatten(1))
