"""``TrainConfig``: every setting of a training run, validated, JSON round-trippable."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from circuits.errors import ConfigurationError

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULERS = ("none", "cosine", "onecycle", "cosine-restarts", "step")
AUGMENTATIONS = ("none", "affine")
BATCHINGS = ("random", "by-length")


@dataclass
class TrainConfig:
    """Settings of one run. ``scheduler_options`` go to the schedule (e.g. ``max_lr`` for onecycle,
    ``T_0``/``eta_min`` for cosine-restarts); ``patience`` 0 turns early stopping off."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    momentum: float = 0.9
    scheduler: str = "none"
    scheduler_options: dict[str, Any] = field(default_factory=dict)
    label_smoothing: float = 0.0
    grad_clip: float | None = None
    patience: int = 0
    val_fraction: float = 0.1
    augment: str = "none"
    seed: int = 0
    device: str = "cpu"
    eval_batch_size: int = 512
    #: ``random`` mini-batches, or ``by-length``: each window of 50 batches sorted by sequence
    #: length and cut into batches that pad little, taken in random order (tasks whose hooks
    #: give lengths; faster)
    batching: str = "random"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad setting."""
        if self.epochs < 1:
            raise ConfigurationError(f"epochs must be >= 1; got {self.epochs}")
        if self.batch_size < 1 or self.eval_batch_size < 1:
            raise ConfigurationError(
                f"batch sizes must be >= 1; got {self.batch_size}, {self.eval_batch_size}"
            )
        if not self.lr > 0:
            raise ConfigurationError(f"lr must be > 0; got {self.lr}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigurationError(f"optimizer must be one of {OPTIMIZERS}; got {self.optimizer!r}")
        if self.scheduler not in SCHEDULERS:
            raise ConfigurationError(f"scheduler must be one of {SCHEDULERS}; got {self.scheduler!r}")
        if self.augment not in AUGMENTATIONS:
            raise ConfigurationError(f"augment must be one of {AUGMENTATIONS}; got {self.augment!r}")
        if not 0 <= self.label_smoothing < 1:
            raise ConfigurationError(f"label_smoothing must be in [0, 1); got {self.label_smoothing}")
        if not 0 <= self.val_fraction < 1:
            raise ConfigurationError(f"val_fraction must be in [0, 1); got {self.val_fraction}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ConfigurationError(f"grad_clip must be > 0 or None; got {self.grad_clip}")
        if not self.weight_decay >= 0 or not self.momentum >= 0:
            raise ConfigurationError(
                f"weight_decay and momentum must be >= 0; got {self.weight_decay}, {self.momentum}"
            )
        if not math.isfinite(self.lr) or not math.isfinite(self.weight_decay):
            raise ConfigurationError(
                f"lr and weight_decay must be finite; got {self.lr}, {self.weight_decay}"
            )
        if self.batching not in BATCHINGS:
            raise ConfigurationError(f"batching must be one of {BATCHINGS}; got {self.batching!r}")
        if self.patience < 0:
            raise ConfigurationError(f"patience must be >= 0; got {self.patience}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigurationError(f"unknown training settings {unknown}; known: {sorted(known)}")
        return cls(**data)

    def updated(self, **changes: Any) -> TrainConfig:
        """A copy with the non-``None`` ``changes`` applied."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
