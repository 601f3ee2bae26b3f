"""Splitting a labelled pool among clients: IID, or non-IID by Dirichlet label skew.

A partition spec is ``"iid"`` or ``"dirichlet:ALPHA"`` (``ALPHA > 0``; small alpha: each client
sees few classes). Every client gets at least ``min_size`` samples; the split depends on the
seed alone, so a server and its clients (separate processes) compute the same one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circuits.errors import ConfigurationError, DataError

__all__ = ["PartitionSpec", "label_histogram", "parse_partition", "partition"]


@dataclass(frozen=True)
class PartitionSpec:
    kind: str  # "iid" or "dirichlet"
    alpha: float | None = None

    def __str__(self) -> str:
        return self.kind if self.alpha is None else f"{self.kind}:{self.alpha:g}"


def parse_partition(text: str) -> PartitionSpec:
    """``"iid"`` or ``"dirichlet:0.5"``; ConfigurationError naming the accepted forms otherwise."""
    raw = str(text).strip().lower()
    if raw == "iid":
        return PartitionSpec("iid")
    kind, sep, value = raw.partition(":")
    if kind == "dirichlet" and sep:
        try:
            alpha = float(value)
        except ValueError:
            alpha = float("nan")
        if alpha > 0 and np.isfinite(alpha):
            return PartitionSpec("dirichlet", alpha)
    raise ConfigurationError(
        f"cannot parse partition {text!r}: write 'iid' or 'dirichlet:ALPHA' with ALPHA > 0 "
        "(e.g. dirichlet:0.5)"
    )


def partition(
    labels, n_clients: int, spec: PartitionSpec | str, *, seed: int = 0, min_size: int = 2
) -> list[np.ndarray]:
    """Sample indices per client. Dirichlet: per class, proportions ~ Dir(alpha) over the clients,
    redrawn (up to 100 times) until every client has ``min_size`` samples."""
    spec = parse_partition(spec) if isinstance(spec, str) else spec
    y = np.asarray(labels)
    n = len(y)
    if not isinstance(n_clients, int) or n_clients < 1:
        raise ConfigurationError(f"clients must be an integer >= 1; got {n_clients!r}")
    if n_clients * min_size > n:
        raise DataError(
            f"{n_clients} clients need at least {n_clients * min_size} samples ({min_size} each) but "
            f"the training set has {n}; use at most {n // min_size} clients"
        )
    rng = np.random.default_rng(seed)
    if spec.kind == "iid":
        return [np.sort(part) for part in np.array_split(rng.permutation(n), n_clients)]
    classes = np.unique(y)
    for _ in range(100):
        parts: list[list[int]] = [[] for _ in range(n_clients)]
        for c in classes:
            idx = rng.permutation(np.flatnonzero(y == c))
            cuts = (np.cumsum(rng.dirichlet([spec.alpha] * n_clients)) * len(idx)).astype(int)[:-1]
            for k, chunk in enumerate(np.split(idx, cuts)):
                parts[k].extend(chunk.tolist())
        if min(len(p) for p in parts) >= min_size:
            return [np.sort(np.asarray(p, dtype=int)) for p in parts]
    raise DataError(
        f"dirichlet:{spec.alpha:g} left a client with fewer than {min_size} samples in 100 draws; "
        "use fewer clients or a larger alpha"
    )


def label_histogram(labels, parts: list[np.ndarray], n_classes: int) -> np.ndarray:
    """``(n_clients, n_classes)`` counts of each class per client."""
    y = np.asarray(labels)
    return np.stack([np.bincount(y[p], minlength=n_classes) for p in parts])
