"""The hybrid CNN of Shahzad (arXiv 2509.13353) and its classical baseline.

HybridCNN: a CNN trunk (per dataset), a feature reducer ending in a softmax over 16 values,
those 16 values amplitude-encoded on 4 qubits (L2-normalised), basic entangler layers, ``<Z_i>``
readout, and an MLP head. ``EnhancedClassicalCNN`` is the paper's classical comparison.
Trunk variants: ``"mnist"`` (grey, small), ``"cifar100"`` (32x32 colour), ``"stl10"`` (96x96).
"""

from __future__ import annotations

import torch
from torch import nn

from circuits import QuantumLayer
from circuits.errors import ConfigurationError
from circuits.library import amplitude_angles, amplitude_encoding, basic_entangler_layers
from qml.registry import register_model

from .normalize import Normalize

__all__ = ["EnhancedClassicalCNN", "HybridCNN", "VARIANTS", "variant_for"]

VARIANTS = ("mnist", "cifar100", "stl10")

#: training settings of arXiv 2509.13353 shared by the hybrid model and its classical CNN
_SHAHZAD = {"epochs": 50, "batch_size": 64, "label_smoothing": 0.1, "augment": "affine", "val_fraction": 0.2}
HYBRID_TRAINING = {
    **_SHAHZAD,
    "optimizer": "adamw",
    "lr": 1e-3,
    "weight_decay": 0.01,
    "scheduler": "onecycle",
    "scheduler_options": {"max_lr": 2e-3, "pct_start": 0.3},
    "grad_clip": 1.0,
}
CLASSICAL_TRAINING = {
    **_SHAHZAD,
    "optimizer": "adam",
    "lr": 3e-3,
    "weight_decay": 5e-3,
    "scheduler": "cosine-restarts",
    "scheduler_options": {"T_0": 5, "eta_min": 1e-5},
}


def variant_for(dataset: str | None, in_channels: int) -> str:
    """Trunk variant for a dataset name: stl10 -> stl10, colour -> cifar100, grey -> mnist."""
    if dataset in VARIANTS:
        return dataset
    if dataset == "stl10":
        return "stl10"
    return "cifar100" if in_channels == 3 else "mnist"


def _block(c_in: int, c_out: int, pool: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
    return [*layers, nn.MaxPool2d(2)] if pool else layers


def _trunk(channels: list[int], in_channels: int, pooled: int, out_size: int) -> nn.Sequential:
    """Conv blocks with the given widths; the first ``pooled`` blocks max-pool."""
    layers: list[nn.Module] = []
    c = in_channels
    for i, width in enumerate(channels):
        layers += _block(c, width, i < pooled)
        c = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d((out_size, out_size)), nn.Flatten())


_HYBRID = {  # variant: (trunk widths, pooled blocks, reducer hidden size)
    "mnist": ([16, 32], 2, 256),
    "cifar100": ([32, 64, 128], 2, 512),
    "stl10": ([32, 64, 128, 256], 3, 1024),
}
_CLASSICAL = {  # variant: (trunk widths, pooled blocks, pool size, head hidden, dropout)
    "mnist": ([32, 64], 2, 4, 128, 0.3),
    "cifar100": ([64, 128, 256, 512], 3, 1, 256, 0.3),
    "stl10": ([64, 128, 256, 512], 3, 1, 256, 0.4),
}


@register_model(
    "hybrid-cnn",
    tasks=("image-classification",),
    description="CNN + softmax(16) amplitude-encoded on 4 qubits + 2 basic entangler layers + MLP "
    "(arXiv 2509.13353)",
    defaults=HYBRID_TRAINING,
    twin="hybrid-cnn-classical",
)
class HybridCNN(nn.Module):
    """CNN trunk -> 16 softmax features -> 4-qubit amplitude encoding -> basic entangler layers
    -> ``<Z_i>`` -> Linear(4, 128) - BN - ReLU - Dropout(0.3) - Linear(128, n_classes)."""

    def __init__(
        self,
        n_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 28,
        *,
        variant: str | None = None,
        n_layers: int = 2,
        dataset: str | None = "mnist",
        engine: str = "torch",
        **engine_options,
    ):
        super().__init__()
        variant = variant or variant_for(dataset, in_channels)
        if variant not in _HYBRID:
            raise ConfigurationError(f"variant must be one of {VARIANTS}; got {variant!r}")
        widths, pooled, hidden = _HYBRID[variant]
        self.variant = variant
        self.normalize = Normalize.for_dataset(dataset, in_channels)
        self.trunk = _trunk(widths, in_channels, pooled, 4)
        self.reducer = nn.Sequential(
            nn.Linear(widths[-1] * 16, hidden), nn.ReLU(), nn.Linear(hidden, 16), nn.Softmax(dim=1)
        )
        n_qubits = 4
        circuit = amplitude_encoding(n_qubits).compose(basic_entangler_layers(n_qubits, n_layers))
        observables = ["I" * (n_qubits - 1 - q) + "Z" + "I" * q for q in range(n_qubits)]
        self.quantum = QuantumLayer(circuit, observables, engine=engine, **engine_options)
        self.head = nn.Sequential(
            nn.Linear(n_qubits, 128),
            nn.BatchNorm1d(128),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(128, n_classes),
        )

    def amplitudes(self, images: torch.Tensor) -> torch.Tensor:
        """The 16 softmax features that are amplitude-encoded (before L2 normalisation)."""
        return self.reducer(self.trunk(self.normalize(images)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        angles = amplitude_angles(self.amplitudes(images), 4)  # prepares the L2-normalised vector
        return self.head(self.quantum(angles))


@register_model(
    "hybrid-cnn-classical",
    tasks=("image-classification",),
    description="the classical CNN arXiv 2509.13353 compares against",
    quantum=False,
    defaults=CLASSICAL_TRAINING,
)
class EnhancedClassicalCNN(nn.Module):
    """The paper's classical baseline: a wider CNN and an MLP head, no quantum layer."""

    def __init__(
        self,
        n_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 28,
        *,
        variant: str | None = None,
        dataset: str | None = "mnist",
    ):
        super().__init__()
        variant = variant or variant_for(dataset, in_channels)
        if variant not in _CLASSICAL:
            raise ConfigurationError(f"variant must be one of {VARIANTS}; got {variant!r}")
        widths, pooled, pool, hidden, dropout = _CLASSICAL[variant]
        self.variant = variant
        self.normalize = Normalize.for_dataset(dataset, in_channels)
        self.trunk = _trunk(widths, in_channels, pooled, pool)
        self.head = nn.Sequential(
            nn.Linear(widths[-1] * pool * pool, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(self.normalize(images)))
