"""The pooled data a federation splits: a catalogued dataset as flat feature tensors."""

from __future__ import annotations

from dataclasses import dataclass

import torch

import data
from circuits.errors import ConfigurationError
from data.synthetic_classes import load_gaussian_classes

__all__ = ["DATASETS", "Pool", "load_pool"]

#: the datasets a federation trains on (flat features; images are flattened, scaled to [0, 1])
DATASETS = ("digits", "gaussian-classes")


@dataclass
class Pool:
    """Training and test tensors of one dataset: ``x`` ``(N, n_features)`` float32, ``y`` int64."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def dims(self) -> dict[str, int]:
        return {"n_features": self.n_features, "n_classes": self.n_classes}


def _flat(images: torch.Tensor) -> torch.Tensor:
    flat = images.reshape(len(images), -1).float()
    return flat / 255.0 if images.dtype == torch.uint8 else flat


def load_pool(dataset: str, seed: int = 0) -> Pool:
    """``dataset`` from the data catalogue: digits (native 8 x 8, 64 features) or gaussian-classes."""
    entry = data.get(dataset)  # UnknownNameError lists the catalogue
    if entry.name == "digits":
        tr, te = data.load_digits("train", seed=seed), data.load_digits("test", seed=seed)
        (xa, ya), (xb, yb) = tr.tensors(), te.tensors()
        return Pool("digits", _flat(xa), ya.long(), _flat(xb), yb.long(), len(tr.classes))
    if entry.name == "gaussian-classes":
        xa, ya = load_gaussian_classes("train", seed=seed)
        xb, yb = load_gaussian_classes("test", seed=seed)
        return Pool(entry.name, xa, ya, xb, yb, int(ya.max()) + 1)
    raise ConfigurationError(f"the federated family trains on {', '.join(DATASETS)}; got {dataset!r}")
