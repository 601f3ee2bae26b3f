"""The models ``ketml train`` knows: name -> how to build it, what task it solves, training defaults.

Later model families register here too (``register``); ``ketml train --list`` prints the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

__all__ = ["MODELS", "ModelSpec", "get", "register"]


@dataclass(frozen=True)
class ModelSpec:
    """``build(n_classes, in_channels, image_size, dataset=..., [engine=...], **options)``."""

    name: str
    build: Callable[..., nn.Module]
    task: str
    description: str
    quantum: bool
    defaults: dict[str, Any] = field(default_factory=dict)
    subset: int | None = None  # training images used by default (the paper's small-data setting)
    twin: str | None = None


MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    if spec.name in MODELS:
        raise ValueError(f"model {spec.name!r} is already registered")
    MODELS[spec.name] = spec
    return spec


def get(name: str) -> ModelSpec:
    """The spec of a registered model; ``KeyError`` listing the known names otherwise."""
    _load_builtin()
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(sorted(MODELS))}") from None


def names() -> list[str]:
    _load_builtin()
    return sorted(MODELS)


_LOADED = False


def _load_builtin() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from .vision import (
        EnhancedClassicalCNN,
        HQNNParallel,
        HQNNParallelClassical,
        HQNNQuanv,
        HQNNQuanvClassical,
        HybridCNN,
    )

    image = "image-classification"
    parallel = {"epochs": 10, "batch_size": 64, "lr": 1e-3, "optimizer": "adam", "scheduler": "cosine"}
    quanv = {
        "epochs": 40,
        "batch_size": 4,
        "lr": 3e-3,
        "optimizer": "sgd",
        "momentum": 0.9,
        "val_fraction": 1 / 6,
    }
    shahzad = {
        "epochs": 50,
        "batch_size": 64,
        "label_smoothing": 0.1,
        "augment": "affine",
        "val_fraction": 0.2,
    }
    for spec in (
        ModelSpec(
            "hqnn-parallel",
            HQNNParallel,
            image,
            "CNN + 4 parallel 5-qubit circuits (RX, 3 SEL layers, <Y>) + linear (arXiv 2304.09224)",
            True,
            parallel,
            twin="hqnn-parallel-classical",
        ),
        ModelSpec(
            "hqnn-parallel-classical",
            HQNNParallelClassical,
            image,
            "HQNN-Parallel with the circuits replaced by Linear(20, 20)",
            False,
            parallel,
        ),
        ModelSpec(
            "hqnn-quanv",
            HQNNQuanv,
            image,
            "2x2 quanvolution (4 qubits, 4 layers) on 14x14 images + linear (arXiv 2304.09224)",
            True,
            quanv,
            subset=600,
            twin="hqnn-quanv-classical",
        ),
        ModelSpec(
            "hqnn-quanv-classical",
            HQNNQuanvClassical,
            image,
            "CNN4: Conv2d(4 channels, 4x4, stride 4) + linear, HQNN-Quanv's classical twin",
            False,
            quanv,
            subset=600,
        ),
        ModelSpec(
            "hybrid-cnn",
            HybridCNN,
            image,
            "CNN + softmax(16) amplitude-encoded on 4 qubits + 2 basic entangler layers + MLP "
            "(arXiv 2509.13353)",
            True,
            {
                **shahzad,
                "optimizer": "adamw",
                "lr": 1e-3,
                "weight_decay": 0.01,
                "scheduler": "onecycle",
                "scheduler_options": {"max_lr": 2e-3, "pct_start": 0.3},
                "grad_clip": 1.0,
            },
            twin="hybrid-cnn-classical",
        ),
        ModelSpec(
            "hybrid-cnn-classical",
            EnhancedClassicalCNN,
            image,
            "the classical CNN arXiv 2509.13353 compares against",
            False,
            {
                **shahzad,
                "optimizer": "adam",
                "lr": 3e-3,
                "weight_decay": 5e-3,
                "scheduler": "cosine-restarts",
                "scheduler_options": {"T_0": 5, "eta_min": 1e-5},
            },
        ),
    ):
        register(spec)
