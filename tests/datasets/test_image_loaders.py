"""Image dataset loaders: the real MNIST/Fashion-MNIST copies, checksums, atomic downloads,
native CIFAR/STL formats written by the test, ImageDataset subsets and splits, digits."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import shutil
import struct
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from qml import datasets
from qml.datasets import ChecksumError, DataNotFoundError, ImageDataset
from qml.datasets import images as image_module

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="../shared/data not present")


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@needs_shared
def test_real_mnist_and_fashion(monkeypatch, offline):
    monkeypatch.setenv("KETML_DATA", str(SHARED))
    train, test = datasets.load_mnist("train"), datasets.load_mnist("test")
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert train.labels[0] == 5 and train.labels.bincount()[1] == 6742 and test.labels.bincount()[1] == 1135
    x, y = test.tensors()
    assert x.dtype == torch.float32 and x.min() == 0 and x.max() == 1
    assert abs(train.mean[0] - 0.1307) < 1e-3 and abs(train.std[0] - 0.3081) < 1e-3
    fashion = datasets.load_fashion_mnist("test")
    assert fashion.images.shape == (10000, 1, 28, 28) and fashion.classes[9] == "Ankle boot"
    assert fashion.labels.bincount().tolist() == [1000] * 10
    assert datasets.load_images("fashion-mnist", "test").labels.equal(fashion.labels)


@needs_shared
def test_corrupt_and_truncated_files_are_rejected(tmp_path, offline):
    folder = tmp_path / "mnist"
    shutil.copytree(SHARED / "mnist", folder)
    path = folder / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.gz"):
        datasets.load_mnist("test", root=folder)
    path.write_bytes(bytes(data[:-50]))
    with pytest.raises(ChecksumError, match="expected"):
        datasets.load_mnist("test", root=folder)


def test_missing_files_without_network_say_where_to_put_them(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("KETML_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError) as info:
        datasets.load_mnist("train")
    message = str(info.value)
    assert (
        str(tmp_path / "mnist") in message
        and "train-images-idx3-ubyte.gz" in message
        and "KETML_DATA" in message
    )
    assert not any((tmp_path / "mnist").iterdir())  # nothing half-written
    with pytest.raises(DataNotFoundError, match="cifar-10-python.tar.gz"):
        datasets.load_cifar10("train", download=False)


class _Response(io.BytesIO):
    def __init__(self, payload: bytes, fail_after: int | None = None):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}
        self.fail_after = fail_after

    def read(self, n=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise urllib.error.URLError("connection reset")
        return super().read(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@needs_shared
def test_download_is_verified_and_atomic(tmp_path, monkeypatch):
    good = (SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    spec = next(f for f in image_module.IMAGE_DATASETS["mnist"] if f.name == "t10k-labels-idx1-ubyte.gz")
    folder = tmp_path / "data"
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: _Response(good))
    path = datasets.cache.ensure_file(folder, spec, progress=False)
    assert path.read_bytes() == good and sorted(p.name for p in folder.iterdir()) == [spec.name]
    path.unlink()
    # a download that dies halfway, or serves other bytes, leaves nothing behind
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: _Response(good, fail_after=1000))
    with pytest.raises(DataNotFoundError, match="downloading it failed"):
        datasets.cache.ensure_file(folder, spec, progress=False)
    assert list(folder.iterdir()) == []
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, timeout=None: _Response(good[:-10] + b"0" * 10)
    )
    with pytest.raises(ChecksumError):
        datasets.cache.ensure_file(folder, spec, progress=False)
    assert list(folder.iterdir()) == []


def test_malformed_idx_is_named(tmp_path):
    bad = tmp_path / "bad-images.gz"
    bad.write_bytes(gzip.compress(struct.pack(">IIII", 0x801, 2, 28, 28) + bytes(2 * 784)))
    with pytest.raises(ValueError, match="magic number"):
        datasets.formats.read_idx(bad, datasets.formats.IDX_IMAGES)
    short = tmp_path / "short-images"
    short.write_bytes(struct.pack(">IIII", 0x803, 2, 28, 28) + bytes(784 + 5))
    with pytest.raises(ValueError, match="short-images.*expected 1568"):
        datasets.formats.read_idx(short, datasets.formats.IDX_IMAGES)


def _tar(path: Path, members: dict[str, bytes]) -> str:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.md5(path.read_bytes()).hexdigest()


def _cifar_batch(n: int, label_key: str, labels: list[int], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    return pickle.dumps({b"data": data, label_key.encode(): labels})


def test_cifar10_and_cifar100_native_archives(tmp_path, monkeypatch, offline):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    members = {
        f"cifar-10-batches-py/data_batch_{i}": _cifar_batch(4, "labels", [i % 10, 1, 2, 3], i)
        for i in range(1, 6)
    }
    members["cifar-10-batches-py/test_batch"] = _cifar_batch(3, "labels", [9, 8, 7], 9)
    md5 = _tar(folder / "cifar-10-python.tar.gz", members)
    spec = image_module.IMAGE_DATASETS["cifar10"][0]
    monkeypatch.setitem(image_module.IMAGE_DATASETS, "cifar10", [type(spec)(spec.name, spec.url, md5=md5)])
    train = datasets.load_cifar10("train", root=folder)
    assert train.images.shape == (20, 3, 32, 32) and train.labels[:4].tolist() == [1, 1, 2, 3]
    raw = pickle.loads(members["cifar-10-batches-py/data_batch_1"])[b"data"]
    # CIFAR rows are 1024 red, 1024 green, 1024 blue values, each row-major 32 x 32
    assert train.images[0, 1, 2, 5] == raw[0, 1024 + 2 * 32 + 5]
    assert datasets.load_cifar10("test", root=folder).labels.tolist() == [9, 8, 7]
    assert train.classes[0] == "airplane"

    folder100 = tmp_path / "cifar100"
    folder100.mkdir()
    meta = pickle.dumps(
        {
            b"fine_label_names": [f"f{i}".encode() for i in range(100)],
            b"coarse_label_names": [f"c{i}".encode() for i in range(20)],
        }
    )
    train100 = pickle.loads(_cifar_batch(2, "fine_labels", [99, 5], 1))
    train100[b"coarse_labels"] = [19, 1]
    md5 = _tar(
        folder100 / "cifar-100-python.tar.gz",
        {"cifar-100-python/train": pickle.dumps(train100), "cifar-100-python/meta": meta},
    )
    spec = image_module.IMAGE_DATASETS["cifar100"][0]
    monkeypatch.setitem(image_module.IMAGE_DATASETS, "cifar100", [type(spec)(spec.name, spec.url, md5=md5)])
    fine = datasets.load_cifar100("train", root=folder100)
    assert fine.labels.tolist() == [99, 5] and fine.classes[99] == "f99"
    coarse = datasets.load_cifar100("train", root=folder100, label_mode="coarse")
    assert coarse.labels.tolist() == [19, 1] and len(coarse.classes) == 20


def test_stl10_binaries_are_transposed(tmp_path, offline):
    binary = tmp_path / "stl10" / "stl10_binary"
    binary.mkdir(parents=True)
    raw = np.arange(2 * 3 * 96 * 96, dtype=np.int64).astype(np.uint8).reshape(2, 3, 96, 96)
    raw.tofile(binary / "test_X.bin")
    np.array([1, 10], dtype=np.uint8).tofile(binary / "test_y.bin")
    ds = datasets.load_stl10("test", root=tmp_path / "stl10")
    assert ds.images.shape == (2, 3, 96, 96) and ds.labels.tolist() == [0, 9]
    # on disk each channel is column-major: file index (c, w, h) holds pixel (c, h, w)
    assert ds.images[1, 2, 7, 3] == raw[1, 2, 3, 7]
    np.array([0, 3], dtype=np.uint8).tofile(binary / "test_y.bin")
    with pytest.raises(ValueError, match="1..10"):
        datasets.load_stl10("test", root=tmp_path / "stl10")


def test_image_dataset_subsets_and_splits_are_stratified_and_deterministic():
    labels = torch.arange(100) % 4
    ds = ImageDataset(torch.zeros(100, 1, 2, 2, dtype=torch.uint8), labels, list("abcd"), "toy")
    sub = ds.subset(20, seed=3)
    assert sub.labels.bincount().tolist() == [5, 5, 5, 5]
    assert torch.equal(sub.labels, ds.subset(20, seed=3).labels)
    rest, held = ds.split(0.2, seed=1)
    assert len(rest) == 80 and len(held) == 20 and held.labels.bincount().tolist() == [5, 5, 5, 5]
    with pytest.raises(ValueError, match="subset size"):
        ds.subset(0)
    with pytest.raises(ValueError, match="uint8"):
        ImageDataset(torch.zeros(2, 1, 2, 2), torch.zeros(2), ["a"])


def test_digits_offline():
    train, test = datasets.load_digits("train", size=28), datasets.load_digits("test", size=28)
    assert len(train) + len(test) == 1797 and train.images.shape[1:] == (1, 28, 28)
    assert datasets.load_digits("all").images.shape == (1797, 1, 8, 8)
    with pytest.raises(ValueError, match="split"):
        datasets.load_digits("validation")
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.load_images("imagenet")
