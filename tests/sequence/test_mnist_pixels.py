"""The MNIST pixel sequences rebuilt like Bausch's files: class statistics that can be checked
against his (value range, background share per digit, split sizes) on the real MNIST files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from data.mnist_pixels import VALIDATION_PER_DIGIT, pixel_levels, qrnn_mnist_pixels, split_indices

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def mnist():
    if not (SHARED / "mnist").is_dir():
        pytest.skip("../shared/data/mnist not present")
    from data import load_mnist

    return load_mnist("train", root=SHARED / "mnist"), load_mnist("test", root=SHARED / "mnist")


def test_levels_are_inverted_grey_levels_with_background_7():
    img = torch.zeros(1, 1, 28, 28, dtype=torch.uint8)
    img[0, 0, 4:24, 9:19] = 255  # a solid bar of ink: 20 high, 10 wide
    lv = pixel_levels(img).reshape(10, 10)
    assert int(lv.min()) == 0 and int(lv.max()) == 7
    assert (lv[:, :2] == 7).all() and (lv[:, -2:] == 7).all()  # square crop keeps the bar thin
    assert (lv[:, 3:7] == 0).all()
    assert pixel_levels(torch.zeros(1, 28, 28, dtype=torch.uint8)).eq(7).all()


def test_validation_holds_out_the_last_500_of_each_digit():
    labels = torch.tensor([0] * 600 + [1] * 700)[
        torch.randperm(1300, generator=torch.Generator().manual_seed(0))
    ]
    val, train = split_indices(labels, "validate"), split_indices(labels, "train")
    assert labels[val].bincount().tolist() == [VALIDATION_PER_DIGIT] * 2
    assert labels[train].bincount().tolist() == [100, 200]
    assert set(val.tolist()).isdisjoint(train.tolist())
    for d in (0, 1):  # the last 500 of each digit, in file order
        members = torch.nonzero(labels == d).squeeze(1)
        assert torch.equal(val[labels[val] == d], members[-VALIDATION_PER_DIGIT:])


def test_class_statistics_match_bauschs_files(mnist):
    train, test = mnist
    sizes = {}
    for name, ds, split in (
        ("train", train, "train"),
        ("validate", train, "validate"),
        ("test", test, "all"),
    ):
        x, y, m, labels = qrnn_mnist_pixels(ds.images, ds.labels, (0, 1), split=split)
        sizes[name] = labels.bincount().tolist()
        assert x.shape[1:] == (99, 2) and m.sum(1).eq(1).all() and m[:, -1].all()
        assert torch.equal(y[:, -1, 1], labels) and y[:, -1, 0].eq(0).all() and y[:, :-1].eq(0).all()
    # Bausch: digit 0 5,424 / 500 / 980, digit 1 6,243 / 500 / 1,135 (his MNIST export had one more
    # training image per digit than the canonical files: 5,923 and 6,742)
    assert sizes == {"train": [5423, 6242], "validate": [500, 500], "test": [980, 1135]}
    for digit, (low, high) in ((0, (0.30, 0.42)), (1, (0.60, 0.75))):
        lv = pixel_levels(train.images[train.labels == digit][:1000])
        assert int(lv.min()) == 0 and int(lv.max()) == 7
        share = float(lv.eq(7).double().mean())  # Bausch's files: 0.373 (digit 0), 0.621 (digit 1)
        assert low < share < high, (digit, share)
        assert lv.reshape(-1, 10, 10)[:, 0].eq(7).double().mean() > 0.5  # top row mostly background
    # the input bits are the two high bits of each level: background 7 -> (1, 1)
    x, _, _, _ = qrnn_mnist_pixels(test.images, test.labels, (0, 1))
    assert x.eq(1).all(-1).double().mean() > 0.4


def test_deskew_straightens_slanted_ones(mnist):
    train, _ = mnist
    ones = train.images[train.labels == 1][:300]
    plain, straight = pixel_levels(ones), pixel_levels(ones, deskewed=True)

    # a straightened "1" is a vertical bar: its ink concentrates in fewer columns
    def column_spread(lv):
        ink = (7 - lv.reshape(-1, 10, 10)).double().sum(1)  # (N, 10) ink per column
        return float((ink > ink.amax(1, keepdim=True) * 0.2).sum(1).double().mean())

    assert column_spread(straight) < column_spread(plain) - 0.5
