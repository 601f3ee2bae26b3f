"""The QRNN's tasks in Bausch's encoding: alignment, masks, the XOR rule, letters, pixel MNIST."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from data.qrnn_tasks import LETTER_BITS, qrnn_elman_letters, qrnn_elman_xor, qrnn_mnist_pixels

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_xor_stream_rule_alignment_and_mask():
    x, y, m = qrnn_elman_xor(5, 36, seed=1)
    assert x.shape == y.shape == (5, 36, 2) and m.shape == (5, 36)
    bits = torch.cat([x[:, :, 1], y[:, -1:, 1]], dim=1)  # the stream: inputs then the last target
    assert (
        bits[:, 2::3]
        == bits[:, 0::3][:, : bits[:, 2::3].shape[1]] ^ bits[:, 1::3][:, : bits[:, 2::3].shape[1]]
    ).all()
    # scored steps predict the third bit of a triple, and their targets are the true next bit
    assert m[0].tolist() == [t % 3 == 1 for t in range(36)]
    scored = m[:, :-1]
    assert torch.equal(y[:, :-1][scored], x[:, 1:][scored])  # the target is the next input word
    assert (y[~m] == torch.tensor([1, 0])).all()
    assert (x[:, :, 0] == 0).all()
    again = qrnn_elman_xor(5, 36, seed=1)
    assert all(torch.equal(a, b) for a, b in zip((x, y, m), again, strict=True))


def test_letter_words_and_wildcards():
    x, y, m = qrnn_elman_letters(3, 30, seed=2)
    code = {v: k for k, v in LETTER_BITS.items()}
    for b in range(3):
        text = "".join(code[tuple(v)] for v in x[b].tolist())
        for consonant, vowels in (("b", "a"), ("d", "ii"), ("g", "uuu")):
            for i, ch in enumerate(text[:-4]):
                if ch == consonant:
                    assert text[i + 1 : i + 1 + len(vowels)] == vowels
        # targets: next letter, consonants replaced by the wildcard 111, which is unscored
        for t in range(29):
            nxt = text[t + 1]
            expected = (1, 1, 1) if nxt in "bdg" else LETTER_BITS[nxt]
            assert tuple(y[b, t].tolist()) == expected
            assert bool(m[b, t]) == (nxt not in "bdg")


def test_pixel_mnist_from_the_real_files():
    if not (SHARED / "mnist").is_dir():
        pytest.skip("../shared/data/mnist not present")
    from data import load_mnist

    ds = load_mnist("test", root=SHARED / "mnist")
    x, y, m, labels = qrnn_mnist_pixels(ds.images, ds.labels, digits=(3, 6))
    assert x.shape == (1968, 99, 2)  # 1010 threes + 958 sixes, 100 pixels -> 99 steps
    assert labels.bincount().tolist() == [1010, 958]
    assert m.sum(1).eq(1).all() and m[:, -1].all()
    assert torch.equal(y[:, -1, 1], labels) and (y[:, -1, 0] == 0).all() and (y[:, :-1] == 0).all()
    assert set(x.unique().tolist()) == {0, 1} and 0.55 < x.float().mean() < 0.95  # background 7 = bits 11
    with pytest.raises(ValueError, match="digits"):
        qrnn_mnist_pixels(ds.images, ds.labels, digits=(1, 1))
