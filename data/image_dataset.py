"""``ImageDataset``: images as one uint8 tensor plus labels, with subsets and splits.

Images are stored as uint8 ``(N, C, H, W)`` and served as floats in [0, 1]; normalisation is the
model's job (so adversarial attacks work in pixel space).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.utils.data import Dataset

from circuits.errors import ConfigurationError, DataError


class ImageDataset(Dataset):
    """A labelled image set held in memory; ``dataset[i]`` is ``(image in [0, 1], label)``."""

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        classes: Sequence[str],
        name: str = "",
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ):
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise DataError(
                f"images must be a uint8 tensor (N, C, H, W); got {images.dtype} {tuple(images.shape)}"
            )
        if labels.shape != (images.shape[0],):
            raise DataError(f"{images.shape[0]} images but labels of shape {tuple(labels.shape)}")
        self.images = images
        self.labels = labels.to(torch.int64)
        self.classes = list(classes)
        self.name = name
        self.transform = transform

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = self.images[i].float() / 255.0
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.labels[i])

    def __repr__(self) -> str:
        c, h, w = self.images.shape[1:]
        return (
            f"ImageDataset({self.name!r}, n={len(self)}, shape=({c}, {h}, {w}), classes={len(self.classes)})"
        )

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All images as float32 in [0, 1] ``(N, C, H, W)`` and the int64 labels: the fast path for
        training loops (``transform`` is not applied here)."""
        return self.images.float().div_(255.0), self.labels.clone()

    def _take(self, index: torch.Tensor, suffix: str) -> ImageDataset:
        return ImageDataset(
            self.images[index], self.labels[index], self.classes, f"{self.name}{suffix}", self.transform
        )

    def _stratified_order(self, seed: int) -> torch.Tensor:
        """A seeded permutation in which every prefix holds the classes in proportion."""
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(self), generator=g)
        labels = self.labels[order]
        rank = torch.zeros(len(self), dtype=torch.float64)
        for c in labels.unique():
            where = (labels == c).nonzero().flatten()
            rank[where] = (torch.arange(len(where), dtype=torch.float64) + 0.5) / len(where)
        return order[torch.argsort(rank, stable=True)]

    def subset(self, n: int, seed: int = 0) -> ImageDataset:
        """``n`` images, stratified by class (each class in proportion), deterministic by ``seed``."""
        if not 0 < n <= len(self):
            raise ConfigurationError(f"subset size must be in 1..{len(self)}; got {n}")
        return self._take(self._stratified_order(seed)[:n].sort().values, f"[{n}]")

    def split(self, fraction: float, seed: int = 0) -> tuple[ImageDataset, ImageDataset]:
        """``(rest, held_out)`` with ``round(fraction * N)`` images held out, stratified, by ``seed``."""
        if not 0 < fraction < 1:
            raise ConfigurationError(f"fraction must be in (0, 1); got {fraction}")
        n_out = min(len(self) - 1, max(1, round(fraction * len(self))))
        order = self._stratified_order(seed)
        return (
            self._take(order[n_out:].sort().values, "[train]"),
            self._take(order[:n_out].sort().values, "[val]"),
        )

    def _moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and (population) standard deviation in [0, 1], summed in float64 chunks
        so that a large set is never copied whole."""
        c = self.images.shape[1]
        total = torch.zeros(c, dtype=torch.float64)
        squares = torch.zeros(c, dtype=torch.float64)
        for chunk in self.images.split(4096):
            x = chunk.to(torch.float64)
            total += x.sum(dim=(0, 2, 3))
            squares += x.square().sum(dim=(0, 2, 3))
        count = max(1, self.images.numel() // c)
        mean = total / count
        var = (squares / count - mean.square()).clamp_min(0)
        return mean / 255.0, var.sqrt() / 255.0

    @property
    def mean(self) -> list[float]:
        """Per-channel mean of the pixel values in [0, 1] (computed on each access)."""
        return self._moments()[0].tolist()

    @property
    def std(self) -> list[float]:
        """Per-channel standard deviation of the pixel values in [0, 1] (computed on each access)."""
        return self._moments()[1].tolist()
