"""The QRNN's tasks in Bausch's encoding (RVQE code, ``RVQE/datasets/{elman,mnist}.py``).

Every task returns ``(inputs, targets, mask)``: bit tensors ``(N, T, width)`` aligned so that
step ``t`` reads ``inputs[:, t]`` and is scored against ``targets[:, t]`` (the next symbol), and
a boolean ``(N, T)`` mask of the steps that count in the loss and the accuracy (the predictable
ones). Unscored steps carry Bausch's wildcard targets; training postselects on them all the same.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from circuits.errors import ConfigurationError

from .registry import Dataset, register

__all__ = ["LETTER_BITS", "qrnn_elman_letters", "qrnn_elman_xor", "qrnn_mnist_pixels"]

#: Bausch's 3-bit letter code (the QRNN paper's reduction of Elman's 6 features).
LETTER_BITS = {"b": (1, 0, 0), "d": (1, 0, 1), "g": (1, 1, 0), "a": (0, 0, 0), "i": (0, 0, 1), "u": (0, 1, 0)}
_WORDS = {"b": "ba", "d": "dii", "g": "guuu"}
_CONSONANT_TARGET = (1, 1, 1)  # "some consonant": not predictable


def _check(n: int, length: int) -> None:
    if n < 1 or length < 3:
        raise ConfigurationError(f"need n_sequences >= 1 and length >= 3; got {n}, {length}")


def qrnn_elman_xor(n_sequences: int, length: int = 36, seed: int = 0):
    """Elman's XOR stream as 2-bit words ``[0, bit]``: triples ``a, b, a^b``; only the third bit of
    each triple is predictable (targets of the first two are the wildcard ``[1, 0]``)."""
    _check(n_sequences, length)
    g = torch.Generator().manual_seed(seed)
    triples = -(-(length + 1) // 3)
    ab = torch.randint(0, 2, (n_sequences, triples, 2), generator=g)
    bits = torch.cat([ab, (ab[..., :1] ^ ab[..., 1:])], dim=2).reshape(n_sequences, -1)[:, : length + 1]
    words = torch.stack([torch.zeros_like(bits), bits], dim=2)
    position = torch.arange(length + 1) % 3
    wildcard = torch.tensor([1, 0])
    targets = torch.where((position == 2)[None, :, None], words, wildcard)
    mask = (position[1:] == 2).expand(n_sequences, -1).clone()
    return words[:, :-1], targets[:, 1:], mask


def qrnn_elman_letters(n_sequences: int, length: int = 36, seed: int = 0):
    """Random consonants b, d, g expanded to ba, dii, guuu, in 3-bit codes; the vowels are
    predictable, the consonants are not (their targets are the wildcard ``111``)."""
    _check(n_sequences, length)
    g = torch.Generator().manual_seed(seed)
    inputs, targets = [], []
    for _ in range(n_sequences):
        choice = torch.randint(0, 3, (length + 1,), generator=g).tolist()
        text = "".join(_WORDS["bdg"[c]] for c in choice)[: length + 1]
        inputs.append([LETTER_BITS[c] for c in text])
        targets.append([_CONSONANT_TARGET if c in "bdg" else LETTER_BITS[c] for c in text])
    x, y = torch.tensor(inputs), torch.tensor(targets)
    mask = (y[:, 1:] != torch.tensor(_CONSONANT_TARGET)).any(-1)
    return x[:, :-1], y[:, 1:], mask


def qrnn_mnist_pixels(
    images: torch.Tensor,
    labels: torch.Tensor,
    digits: tuple[int, ...] = (0, 1),
    size: int = 10,
    scanlines: tuple[int, ...] = (0, 1),
):
    """MNIST fed pixel by pixel, as in the QRNN paper: images downsampled to ``size x size``
    (area average), quantised to 3 bits, the bits ``scanlines`` of each (0 = most significant) as
    the input word; the label (``ceil(log2(#digits))`` bits, padded to the word width) is the
    target of the last step, the only scored one; other targets are 0.

    ``images``: uint8 ``(N, 1, 28, 28)``; only the listed digits are kept (in that order: label ``k``
    is ``digits[k]``). Returns ``(inputs, targets, mask, labels)``.
    """
    if len(set(digits)) != len(digits) or len(digits) < 2:
        raise ConfigurationError(f"digits must be at least two different digits; got {digits}")
    if not set(scanlines) <= {0, 1, 2} or not scanlines:
        raise ConfigurationError(f"scanlines are bits 0, 1, 2 of the 3-bit pixel; got {scanlines}")
    keep = torch.zeros(len(labels), dtype=torch.bool)
    new_labels = torch.full_like(labels, -1)
    for k, d in enumerate(digits):
        keep |= labels == d
        new_labels[labels == d] = k
    x = images[keep].float() / 255.0
    y = new_labels[keep]
    small = F.interpolate(x, size=(size, size), mode="area").flatten(1)  # (N, size*size) in [0, 1]
    levels = (small * 8).floor().clamp(0, 7).long()
    bits3 = torch.stack([(levels >> 2) & 1, (levels >> 1) & 1, levels & 1], dim=-1)
    words = bits3[..., list(scanlines)]
    width = len(scanlines)
    label_bits = math.ceil(math.log2(len(digits)))
    steps = -(-label_bits // width)
    codes = torch.stack([(y >> (label_bits - 1 - i)) & 1 for i in range(label_bits)], dim=1)
    codes = torch.cat([torch.zeros(len(y), steps * width - label_bits, dtype=torch.long), codes], 1)
    targets = torch.zeros_like(words)
    targets[:, -steps:] = codes.reshape(len(y), steps, width)
    mask = torch.zeros(words.shape[:2], dtype=torch.bool)
    mask[:, -steps:] = True
    return words[:, :-1], targets[:, 1:], mask[:, 1:], y


_RVQE = "Bausch, Recurrent Quantum Neural Networks, NeurIPS 2020, arXiv:2006.14619 (RVQE code)"
register(
    Dataset(
        "elman-xor",
        "bit sequences",
        "Elman's XOR stream as 2-bit words: triples a, b, a^b; the third bit is predictable",
        qrnn_elman_xor,
        source=_RVQE,
        licence="generated here (no data files)",
        size="256 train / 64 test sequences of 36 steps",
        how_to_get="generated on the fly, seeded",
    )
)
register(
    Dataset(
        "elman-letter",
        "bit sequences",
        "Elman's letter task: consonants b, d, g expanded to ba, dii, guuu in 3-bit codes",
        qrnn_elman_letters,
        source=_RVQE,
        licence="generated here (no data files)",
        size="256 train / 64 test sequences of 36 steps",
        how_to_get="generated on the fly, seeded",
    )
)
register(
    Dataset(
        "mnist-pixels-01",
        "bit sequences",
        "MNIST digits 0 and 1 fed pixel by pixel (10 x 10, 2 bits per step), label at the end",
        functools.partial(qrnn_mnist_pixels, digits=(0, 1)),
        built_from=("mnist",),
        source=_RVQE,
        licence="as mnist",
        size="as mnist (digits 0, 1)",
        how_to_get="built from mnist (see mnist)",
    )
)
register(
    Dataset(
        "mnist-pixels-36",
        "bit sequences",
        "MNIST digits 3 and 6 fed pixel by pixel (10 x 10, 2 bits per step), label at the end",
        functools.partial(qrnn_mnist_pixels, digits=(3, 6)),
        built_from=("mnist",),
        source=_RVQE,
        licence="as mnist",
        size="as mnist (digits 3, 6)",
        how_to_get="built from mnist (see mnist)",
    )
)
