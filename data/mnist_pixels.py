"""MNIST as pixel sequences for the QRNN, rebuilt the way Bausch's data files were made.

Bausch's ``RVQE/datasets/res/mnist-simple-{digit}[-deskewed]-{train,validate,test}.csv.gz`` (made in
Mathematica; no licence, so not copied) hold one 10 x 10 image per row, one value 0..7 per pixel
with 7 = background. Their digits fill the frame: the digit is cropped to its ink and
resized to 10 x 10. Here: optional moment deskew (28 x 28), crop to the square around the ink's
bounding box, antialiased bilinear resize to 10 x 10, 8 grey levels inverted
(``round(7 (1 - ink))``); the last 500 training images of each digit are held out for validation.
Class statistics against Bausch's files (share of background pixels, digit 0 / 1): 0.35 / 0.69
here, 0.37 / 0.62 there (``tests/sequence/test_mnist_pixels.py``). The QRNN reads bits ``scanlines`` of each
3-bit pixel (0 = most significant) per step; the label is the target of the last step.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

from circuits.errors import ConfigurationError

from .registry import Dataset, register

__all__ = ["VALIDATION_PER_DIGIT", "deskew", "pixel_levels", "qrnn_mnist_pixels", "split_indices"]

#: training images per digit held out for validation (the last ones of each digit, in file order)
VALIDATION_PER_DIGIT = 500
SPLITS = ("all", "train", "validate")


def deskew(images: np.ndarray) -> np.ndarray:
    """Straighten slanted digits (``(N, H, W)`` floats in [0, 1]): shear each image along x so its
    intensity-weighted covariance of x and y vanishes, about its centre of mass."""
    from scipy.ndimage import affine_transform

    h, w = images.shape[1:]
    ys, xs = np.mgrid[:h, :w].astype(np.float64)
    out = np.empty_like(images)
    for k, img in enumerate(images):
        total = img.sum()
        if total <= 0:
            out[k] = img
            continue
        cy, cx = (img * ys).sum() / total, (img * xs).sum() / total
        var_y = (img * (ys - cy) ** 2).sum() / total
        cov = (img * (ys - cy) * (xs - cx)).sum() / total
        alpha = cov / var_y if var_y > 0 else 0.0
        # output (y, x) reads input (y, x + alpha (y - cy)): the slant removed
        matrix = np.array([[1.0, 0.0], [alpha, 1.0]])
        offset = np.array([0.0, -alpha * cy])
        out[k] = affine_transform(img, matrix, offset=offset, order=1, mode="constant", cval=0.0)
    return out


def _square_crop(img: torch.Tensor, top: int, bottom: int, left: int, right: int) -> torch.Tensor:
    """The square around the box ``[top, bottom) x [left, right)``, centred on it (zero-padded), so
    the resize keeps the digit's aspect ratio (a "1" stays thin)."""
    side = max(bottom - top, right - left)
    padded = F.pad(img, (side, side, side, side))
    y0 = top + side - (side - (bottom - top)) // 2
    x0 = left + side - (side - (right - left)) // 2
    return padded[y0 : y0 + side, x0 : x0 + side]


def pixel_levels(images: torch.Tensor, size: int = 10, deskewed: bool = False) -> torch.Tensor:
    """``(N, size * size)`` values 0..7 (7 = background, 0 = full ink), row-major, from uint8
    images ``(N, [1,] H, W)``: optional deskew, square crop around the ink, antialiased resize,
    8 inverted levels."""
    x = images.reshape(len(images), images.shape[-2], images.shape[-1]).to(torch.float64) / 255.0
    if deskewed:
        x = torch.from_numpy(deskew(x.numpy()))
    out = torch.full((len(x), size * size), 7, dtype=torch.long)
    for k, img in enumerate(x):
        rows = torch.nonzero(img.amax(1) > 0).squeeze(1)
        cols = torch.nonzero(img.amax(0) > 0).squeeze(1)
        if len(rows) == 0:
            continue
        crop = _square_crop(img, int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
        small = F.interpolate(crop[None, None], size=(size, size), mode="bilinear", antialias=True)[0, 0]
        out[k] = torch.round(7 * (1 - small.clamp(0, 1))).long().flatten()
    return out


def split_indices(labels: torch.Tensor, split: str, holdout: int = VALIDATION_PER_DIGIT) -> torch.Tensor:
    """Indices of ``split`` ("all", "train": all but the last ``holdout`` of each digit,
    "validate": those last ones) in file order."""
    if split not in SPLITS:
        raise ConfigurationError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    index = torch.arange(len(labels))
    if split == "all":
        return index
    held = torch.zeros(len(labels), dtype=torch.bool)
    for d in labels.unique().tolist():
        held[index[labels == d][-holdout:]] = True
    return index[held if split == "validate" else ~held]


def qrnn_mnist_pixels(
    images: torch.Tensor,
    labels: torch.Tensor,
    digits: tuple[int, ...] = (0, 1),
    size: int = 10,
    scanlines: tuple[int, ...] = (0, 1),
    deskewed: bool = False,
    split: str = "all",
):
    """MNIST fed pixel by pixel (Bausch's encoding): pixels as in :func:`pixel_levels`, the bits
    ``scanlines`` of each as the input word; the label (``ceil(log2(#digits))`` bits, left-padded
    to whole words) is the target of the last step(s), the only scored ones; other targets are 0.
    Step ``t`` reads pixel ``t`` and predicts pixel ``t + 1``'s target, so 100 pixels give 99 steps.

    ``images``: uint8 ``(N, 1, 28, 28)``; only the listed digits are kept (label ``k`` is
    ``digits[k]``); ``split`` as in :func:`split_indices` (use "train"/"validate" on the training
    file). Returns ``(inputs, targets, mask, labels)``.
    """
    if len(set(digits)) != len(digits) or len(digits) < 2:
        raise ConfigurationError(f"digits must be at least two different digits; got {digits}")
    if not set(scanlines) <= {0, 1, 2} or not scanlines:
        raise ConfigurationError(f"scanlines are bits 0, 1, 2 of the 3-bit pixel; got {scanlines}")
    keep = torch.zeros(len(labels), dtype=torch.bool)
    for d in digits:
        keep |= labels == d
    picked = torch.nonzero(keep).squeeze(1)
    picked = picked[split_indices(labels[picked], split)]
    new_labels = torch.tensor([digits.index(int(d)) for d in labels[picked]], dtype=torch.long)
    levels = pixel_levels(images[picked], size, deskewed)
    bits3 = torch.stack([(levels >> 2) & 1, (levels >> 1) & 1, levels & 1], dim=-1)
    words = bits3[..., list(scanlines)]
    width, n = len(scanlines), len(new_labels)
    label_bits = math.ceil(math.log2(len(digits)))
    steps = -(-label_bits // width)
    codes = torch.stack([(new_labels >> (label_bits - 1 - i)) & 1 for i in range(label_bits)], dim=1)
    codes = torch.cat([torch.zeros(n, steps * width - label_bits, dtype=torch.long), codes], 1)
    targets = torch.zeros_like(words)
    targets[:, -steps:] = codes.reshape(n, steps, width)
    mask = torch.zeros(words.shape[:2], dtype=torch.bool)
    mask[:, -steps:] = True
    return words[:, :-1], targets[:, 1:], mask[:, 1:], new_labels


_RVQE = "Bausch, Recurrent Quantum Neural Networks, NeurIPS 2020, arXiv:2006.14619 (RVQE code)"
for _digits in ((0, 1), (3, 6)):
    register(
        Dataset(
            f"mnist-pixels-{_digits[0]}{_digits[1]}",
            "bit sequences",
            f"MNIST digits {_digits[0]} and {_digits[1]} fed pixel by pixel (cropped to the ink, "
            "10 x 10, 7 = background, 2 bits per step), label at the end",
            functools.partial(qrnn_mnist_pixels, digits=_digits),
            built_from=("mnist",),
            source=_RVQE,
            licence="as mnist",
            size=f"as mnist (digits {_digits[0]}, {_digits[1]}; split 'validate': the last 500 training "
            "images per digit, which ketml train keeps in training and the QRNN study holds out)",
            how_to_get="built from mnist (see mnist)",
        )
    )
