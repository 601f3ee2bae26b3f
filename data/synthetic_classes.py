"""A generated classification table: ``gaussian-classes``, the federated family's synthetic task
(scikit-learn's ``make_classification``: 4 classes, 6 standardised features, 1,500 samples)."""

from __future__ import annotations

import torch

from circuits.errors import ConfigurationError

from .registry import Dataset, register

__all__ = ["load_gaussian_classes"]


def load_gaussian_classes(
    split: str = "train",
    *,
    n_samples: int = 1500,
    n_features: int = 6,
    n_classes: int = 4,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)``: float32 features ``(N, n_features)`` standardised with the training split's
    moments, int64 labels; a fixed stratified split (``split`` "train", "test" or "all")."""
    if split not in ("train", "test", "all"):
        raise ConfigurationError(f"split must be 'train', 'test' or 'all'; got {split!r}")
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    x, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=min(n_features, 4),
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=seed,
    )
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, stratify=y, random_state=seed)
    mean, std = x_tr.mean(0), x_tr.std(0) + 1e-12
    pick = {"train": (x_tr, y_tr), "test": (x_te, y_te), "all": (x, y)}[split]
    xs = torch.as_tensor((pick[0] - mean) / std, dtype=torch.float32)
    return xs, torch.as_tensor(pick[1], dtype=torch.long)


register(
    Dataset(
        "gaussian-classes",
        "tables",
        "synthetic 4-class Gaussian clusters, 6 features, 1,500 samples (federated family's task)",
        load_gaussian_classes,
        requires=("sklearn",),
        source="sklearn.datasets.make_classification(class_sep=1.5, n_clusters_per_class=1, seed 0)",
        licence="generated",
        size="1,500 samples",
        how_to_get="generated on the fly, deterministic",
    )
)
