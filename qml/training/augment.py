"""Batch augmentations on image tensors (no torchvision): a random affine transform per image."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(
    images: torch.Tensor,
    degrees: float = 5.0,
    translate: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Rotate each image by U(-degrees, degrees) and shift it by up to ``translate`` of its size
    (torchvision's ``RandomAffine(degrees, translate=(t, t))``), zero fill, bilinear."""
    b = images.shape[0]
    opts = {"generator": generator, "device": "cpu", "dtype": images.dtype}
    angle = (torch.rand(b, **opts) * 2 - 1) * math.radians(degrees)
    shift = (torch.rand(b, 2, **opts) * 2 - 1) * translate * 2  # grid coordinates span [-1, 1]
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    ).to(images.device)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
