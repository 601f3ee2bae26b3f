"""Data input to ``ketml train`` under faults: damaged dataset files, a wrong data folder, unknown
or bad data options and bad training numbers are one line naming what is wrong, before any run
folder is made."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.reliability.test_cli import invoke, one_line_error
from tests.reliability.test_runs import TINY

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TRAIN = ["train", TINY, "--epochs", "1", "--no-progress"]
MNIST_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def _refused(tmp_path, *args: str, needles=()) -> str:
    out = tmp_path / "runs"
    text = one_line_error(invoke(*TRAIN, *args, "--out", out), *needles)
    assert not out.exists() or not list(out.iterdir())  # no run folder left behind
    return text


def test_truncated_dataset_file_is_named(tmp_path):
    if not (SHARED / "mnist").is_dir():
        pytest.skip("the shared MNIST files are not here")
    root = tmp_path / "mnist"
    root.mkdir()
    for name in MNIST_FILES:
        shutil.copy(SHARED / "mnist" / name, root / name)
    damaged = root / MNIST_FILES[0]
    damaged.write_bytes(damaged.read_bytes()[:5000])
    _refused(tmp_path, "-d", "mnist", "--data-root", str(root), needles=[str(damaged), "truncated"])


@pytest.mark.parametrize("what", ["file", "missing"])
def test_data_root_that_is_not_a_folder(tmp_path, what):
    root = tmp_path / "data"
    if what == "file":
        root.write_text("x")
    expected = "is a file" if what == "file" else "does not exist"
    _refused(tmp_path, "-d", "mnist", "--data-root", str(root), needles=[f"--data-root {root} {expected}"])


@pytest.mark.parametrize(
    "args, needles",
    [
        (["-D", "bogus=1"], ["has no data option 'bogus'", "image_size"]),
        (["-D", "image_sise=8"], ["did you mean image_size"]),
        (["-D", "image_size=0"], ["image_size must be a whole number of pixels >= 1; got 0"]),
        (["-D", "image_size='big'"], ["got 'big'"]),
        (["-D", "image_size"], ["write name=value"]),
        (["--subset", "-5"], ["subset size must be in 1.."]),
        (["--subset", "1"], ["need at least 2 training samples"]),
        (["--test-subset", "-3"], ["subset size must be in 1.."]),
        (["--val-fraction", "1.5"], ["val_fraction must be in [0, 1)"]),
        (["--lr", "nan"], ["lr must be > 0; got nan"]),
        (["--lr", "-1"], ["lr must be > 0"]),
        (["--weight-decay", "-1"], ["weight_decay and momentum must be >= 0"]),
        (["--weight-decay", "inf"], ["must be finite"]),
    ],
)
def test_bad_data_and_training_numbers_are_one_line(tmp_path, args, needles):
    _refused(tmp_path, "-d", "digits", *args, needles=needles)


def test_dataset_name_typo_lists_the_datasets(tmp_path):
    text = _refused(tmp_path, "-d", "digit", needles=["unknown dataset 'digit'"])
    assert "digits" in text
