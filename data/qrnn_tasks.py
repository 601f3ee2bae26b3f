"""The QRNN's tasks in Bausch's encoding (RVQE code, ``RVQE/datasets/{elman,mnist}.py``).

Every task returns ``(inputs, targets, mask)``: bit tensors ``(N, T, width)`` aligned so that
step ``t`` reads ``inputs[:, t]`` and is scored against ``targets[:, t]`` (the next symbol), and
a boolean ``(N, T)`` mask of the steps that count in the loss and the accuracy (the predictable
ones). Unscored steps carry Bausch's wildcard targets; training postselects on them all the same.
"""

from __future__ import annotations

import torch

from circuits.errors import ConfigurationError

from .mnist_pixels import qrnn_mnist_pixels
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
