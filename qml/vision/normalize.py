"""Per-channel input normalisation as the first layer of a model.

The models take images in [0, 1] pixel space and normalise inside, so an adversarial attack
with an epsilon in pixel units perturbs what a camera could, and clamping to [0, 1] is right.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from circuits.errors import ConfigurationError

#: The usual per-channel (mean, std) of each dataset's training images.
NORMALIZATION: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashion-mnist": ((0.2860,), (0.3530,)),
    "digits": ((0.3,), (0.4,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "stl10": ((0.4467, 0.4398, 0.4066), (0.2603, 0.2566, 0.2713)),
}


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel, for ``(B, C, H, W)`` images."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        if len(mean) != len(std) or any(s <= 0 for s in std):
            raise ConfigurationError(
                f"mean and std need one entry per channel and std > 0; got {mean}, {std}"
            )
        self.register_buffer("mean", torch.tensor(list(mean)).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std)).view(1, -1, 1, 1))

    @classmethod
    def for_dataset(cls, name: str | None, channels: int) -> Normalize:
        """The dataset's statistics, or mean 0.5 / std 0.5 per channel for an unknown dataset."""
        mean, std = NORMALIZATION.get(name or "", ((0.5,) * channels, (0.5,) * channels))
        if len(mean) != channels:
            mean, std = (mean[0],) * channels, (std[0],) * channels
        return cls(mean, std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel values whose normalisation is ``z``."""
        return z * self.std + self.mean

    def extra_repr(self) -> str:
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"
