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
    tasks: tuple[str, ...] = ("image-classification",)
    #: per dataset: (model options, training settings) of the paper's setting for that task
    presets: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)


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
    for spec in (*_image_specs(), *_sequence_specs()):
        register(spec)


def _image_specs() -> list[ModelSpec]:
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
    hybrid = {
        **shahzad,
        "optimizer": "adamw",
        "lr": 1e-3,
        "weight_decay": 0.01,
        "scheduler": "onecycle",
        "scheduler_options": {"max_lr": 2e-3, "pct_start": 0.3},
        "grad_clip": 1.0,
    }
    hybrid_classical = {
        **shahzad,
        "optimizer": "adam",
        "lr": 3e-3,
        "weight_decay": 5e-3,
        "scheduler": "cosine-restarts",
        "scheduler_options": {"T_0": 5, "eta_min": 1e-5},
    }
    return [
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
            hybrid,
            twin="hybrid-cnn-classical",
        ),
        ModelSpec(
            "hybrid-cnn-classical",
            EnhancedClassicalCNN,
            image,
            "the classical CNN arXiv 2509.13353 compares against",
            False,
            hybrid_classical,
        ),
    ]


def _sequence_specs() -> list[ModelSpec]:
    from .qfwp import QFWP
    from .qlstm import QLSTM
    from .qrnn import QRNN

    def qlstm(input_size: int, output_size: int, **options: Any) -> QLSTM:
        return QLSTM(input_size, options.pop("hidden_size", 3), output_size, **options)

    series = {"epochs": 100, "batch_size": 10, "lr": 0.01, "optimizer": "rmsprop", "val_fraction": 0.0}
    rl = {"epochs": 2000, "lr": 0.01, "grad_clip": 1.0}
    regression = ("damped-shm", "bessel-j2", "narma5", "narma10", "delayed-control")
    rl_tasks = ("cartpole", "minigrid-empty-5x5", "minigrid-empty-6x6", "minigrid-doorkey-5x5")
    sequence_presets = {**{d: ({}, series) for d in regression}, **{d: ({}, rl) for d in rl_tasks}}
    qrnn_presets = {
        "elman-xor": (
            {"workspace": 6, "stages": 3, "order": 2, "degree": 4},
            {"epochs": 30, "batch_size": 8, "lr": 0.01},
        ),
        "elman-letter": (
            {"workspace": 5, "stages": 2, "order": 2, "degree": 3},
            {"epochs": 30, "batch_size": 4, "lr": 0.005},
        ),
        "mnist-pixels-01": (
            {"workspace": 8, "stages": 2, "order": 2, "degree": 2},
            {"epochs": 3, "batch_size": 100, "lr": 0.01},
        ),
        "mnist-pixels-36": (
            {"workspace": 8, "stages": 2, "order": 2, "degree": 2},
            {"epochs": 3, "batch_size": 100, "lr": 0.01},
        ),
    }
    qrnn_defaults = {"optimizer": "adam", "grad_clip": 0.5, "val_fraction": 0.0, "eval_batch_size": 256}
    return [
        ModelSpec(
            "qrnn",
            QRNN,
            "sequence bits",
            "Bausch's recurrent QNN: quantum neurons, postselection (arXiv 2006.14619)",
            True,
            qrnn_defaults,
            tasks=("qrnn",),
            presets=qrnn_presets,
        ),
        ModelSpec(
            "qlstm",
            qlstm,
            "time series / RL",
            "quantum LSTM: VQC gates (arXiv 2009.01783)",
            True,
            series,
            tasks=("regression", "rl"),
            presets=sequence_presets,
        ),
        ModelSpec(
            "qfwp",
            QFWP,
            "time series / RL",
            "quantum fast-weight programmer (arXiv 2402.17760)",
            True,
            series,
            tasks=("regression", "rl"),
            presets=sequence_presets,
        ),
    ]
