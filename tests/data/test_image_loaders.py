"""Image dataset loaders: the real MNIST/Fashion-MNIST copies, checksums, atomic downloads, clear
errors for missing data, native CIFAR/STL formats written by the test, ImageDataset, digits."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import shutil
import struct
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

import data as datasets
from circuits.errors import KetmlError, UnknownNameError
from data import ChecksumError, DataNotFoundError, ImageDataset
from data.cache import RemoteFile, ensure_file

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
T10K_LABELS = "t10k-labels-idx1-ubyte.gz"


@pytest.fixture
def shared() -> Path:
    if not (SHARED / "mnist" / T10K_LABELS).is_file():
        pytest.skip(f"the shared MNIST copy is not at {SHARED}")
    return SHARED


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def _catalogue_spec(dataset: str, name: str) -> RemoteFile:
    return next(f for f in datasets.IMAGE_DATASETS[dataset] if f.name == name)


def _set_digest(monkeypatch, dataset: str, path: Path) -> None:
    """Point the catalogue entry of a one-archive dataset at a generated archive's md5."""
    spec = datasets.IMAGE_DATASETS[dataset][0]
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    monkeypatch.setitem(datasets.IMAGE_DATASETS, dataset, [RemoteFile(spec.name, spec.url, md5=md5)])


# ---------------------------------------------------------------- the real MNIST copies


def test_real_mnist_and_fashion_mnist(shared, monkeypatch, offline):
    monkeypatch.setenv("KETML_DATA", str(shared))
    train, test = datasets.load_mnist("train"), datasets.load_mnist("test")
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert train.images.dtype == torch.uint8 and train.labels.dtype == torch.int64
    assert int(train.labels[0]) == 5
    assert train.labels.bincount()[1] == 6742 and test.labels.bincount()[1] == 1135
    assert train.classes == [str(i) for i in range(10)] and train.name == "mnist-train"
    x, y = test.tensors()
    assert x.shape == (10000, 1, 28, 28) and x.dtype == torch.float32 and x.min() == 0 and x.max() == 1
    image, label = train[0]
    assert image.shape == (1, 28, 28) and label == 5 and 0 <= image.min() and image.max() <= 1
    assert abs(train.mean[0] - 0.1307) < 1e-3 and abs(train.std[0] - 0.3081) < 1e-3

    fashion = datasets.load_fashion_mnist("test")
    assert fashion.images.shape == (10000, 1, 28, 28) and fashion.classes[9] == "Ankle boot"
    assert fashion.labels.bincount().tolist() == [1000] * 10
    assert datasets.load_images("fashion-mnist", "test").labels.equal(fashion.labels)
    assert len(datasets.load_fashion_mnist("train")) == 60000
    statuses = {(r["dataset"], r["file"]): r["status"] for r in datasets.describe()}
    assert all(statuses[("mnist", f)] == "ok" for f in (T10K_LABELS, "train-images-idx3-ubyte.gz"))
    assert statuses[("cifar10", "cifar-10-python.tar.gz")] == "missing"


def test_corrupt_and_truncated_files_are_rejected(shared, tmp_path, offline):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", T10K_LABELS):
        shutil.copyfile(shared / "mnist" / name, folder / name)
    assert len(datasets.load_mnist("test", root=folder)) == 10000
    path = folder / T10K_LABELS
    good = path.read_bytes()
    flipped = bytearray(good)
    flipped[100] ^= 0xFF
    path.write_bytes(bytes(flipped))
    expected = _catalogue_spec("mnist", T10K_LABELS).sha256
    with pytest.raises(ChecksumError) as info:
        datasets.load_mnist("test", root=folder)
    message = str(info.value)
    assert str(path) in message and expected in message and hashlib.sha256(flipped).hexdigest() in message
    assert "Delete it" in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, KetmlError)
    path.write_bytes(good[:-50])
    with pytest.raises(ChecksumError, match=f"{T10K_LABELS}.*expected {expected}"):
        datasets.load_mnist("test", root=folder)


# ---------------------------------------------------------------- missing data, downloads


def test_missing_files_without_network_say_what_to_put_where(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("KETML_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError) as info:
        datasets.load_mnist("train")
    message = str(info.value)
    folder = tmp_path / "mnist"
    assert str(folder) in message and "KETML_DATA" in message
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte.gz" in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in message
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, KetmlError)
    assert not folder.exists()  # a failed download leaves nothing behind, not even the folder
    with pytest.raises(DataNotFoundError, match="cifar-10-python.tar.gz"):
        datasets.load_cifar10("train", download=False)
    with pytest.raises(DataNotFoundError, match="stl10_binary.tar.gz"):
        datasets.load_images("stl10", "test", download=False)
    assert list(tmp_path.iterdir()) == []


def test_read_only_folder_is_a_clean_error(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(DataNotFoundError, match="not writable.*Permission denied"):
        ensure_file(tmp_path, "x.bin", "https://example.invalid/x.bin")
    # an STL-10 archive that cannot be extracted in place
    folder = tmp_path / "stl10"
    folder.mkdir()
    _tar(folder / "stl10_binary.tar.gz", {"stl10_binary/class_names.txt": b"a\n"})
    _set_digest(monkeypatch, "stl10", folder / "stl10_binary.tar.gz")
    with pytest.raises(DataNotFoundError, match="cannot be extracted.*tar xzf"):
        datasets.load_stl10("test", root=folder)


class _Response(io.BytesIO):
    """A stand-in for an HTTP response serving ``payload``; it can die after ``fail_after`` bytes."""

    def __init__(self, payload: bytes, fail_after: int | None = None, error: BaseException | None = None):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}
        self.fail_after, self.error = fail_after, error

    def read(self, n=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise self.error or urllib.error.URLError("connection reset")
        return super().read(min(n, 4096) if n and n > 0 else 4096)


def _serve(monkeypatch, make):
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: make(url))


def test_download_is_verified_and_atomic(shared, tmp_path, monkeypatch):
    good = (shared / "mnist" / T10K_LABELS).read_bytes()
    spec = _catalogue_spec("mnist", T10K_LABELS)
    folder = tmp_path / "data"

    def fetch():
        return ensure_file(folder, spec.name, spec.url, sha256=spec.sha256, progress=False)

    _serve(monkeypatch, lambda url: _Response(good))
    path = fetch()
    assert path.read_bytes() == good and [p.name for p in folder.iterdir()] == [spec.name]
    path.unlink()
    # a download that dies halfway, serves other bytes, or is interrupted leaves nothing behind
    _serve(monkeypatch, lambda url: _Response(good, fail_after=1000))
    with pytest.raises(DataNotFoundError, match="downloading it failed.*connection reset"):
        fetch()
    assert list(folder.iterdir()) == []
    _serve(monkeypatch, lambda url: _Response(good[:-10] + b"0" * 10))
    with pytest.raises(ChecksumError, match="nothing was saved"):
        fetch()
    assert list(folder.iterdir()) == []
    _serve(monkeypatch, lambda url: _Response(good, fail_after=1000, error=KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        fetch()
    assert list(folder.iterdir()) == []
    short = _Response(good[:500])
    short.headers = {"Content-Length": str(len(good))}
    _serve(monkeypatch, lambda url: short)
    with pytest.raises(DataNotFoundError, match="after 500 of"):
        fetch()
    assert list(folder.iterdir()) == []


def test_loader_downloads_missing_files(shared, tmp_path, monkeypatch):
    monkeypatch.setenv("KETML_DATA", str(tmp_path))
    urls = []

    def from_shared(url):
        urls.append(url)
        return _Response((shared / "mnist" / url.rsplit("/", 1)[1]).read_bytes())

    _serve(monkeypatch, from_shared)
    test = datasets.load_mnist("test")
    assert len(test) == 10000 and test.labels.bincount()[1] == 1135
    assert urls == [_catalogue_spec("mnist", n).url for n in ("t10k-images-idx3-ubyte.gz", T10K_LABELS)]
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        T10K_LABELS,
    ]
    datasets.load_mnist("test")  # now cached: no second download
    assert len(urls) == 2


# ---------------------------------------------------------------- IDX


def _idx_images(n: int, side: int = 28, magic: int = 0x803) -> bytes:
    pixels = np.random.default_rng(n).integers(0, 256, n * side * side, dtype=np.uint8)
    return struct.pack(">IIII", magic, n, side, side) + pixels.tobytes()


def _idx_labels(labels: list[int]) -> bytes:
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def test_malformed_idx_is_rejected_naming_the_file(tmp_path):
    read_idx, images_magic = datasets.formats.read_idx, datasets.formats.IDX_IMAGES
    good = tmp_path / "good-images"
    good.write_bytes(_idx_images(2))
    assert read_idx(good, images_magic).shape == (2, 28, 28)
    bad = tmp_path / "bad-images.gz"
    bad.write_bytes(gzip.compress(_idx_images(2, magic=0x801)))
    with pytest.raises(ValueError, match="bad-images.gz.*magic number 0x00000801"):
        read_idx(bad, images_magic)
    short = tmp_path / "short-images"
    short.write_bytes(_idx_images(2)[:-5])
    with pytest.raises(ValueError, match="short-images.*expected 1568"):
        read_idx(short, images_magic)
    cut = tmp_path / "cut-images.gz"
    cut.write_bytes(gzip.compress(_idx_images(2))[:-20])
    with pytest.raises(ValueError, match="cut-images.gz.*cannot read"):
        read_idx(cut, images_magic)
    header = tmp_path / "header-labels"
    header.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="header-labels.*too short"):
        read_idx(header, datasets.formats.IDX_LABELS)


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (_idx_images(3), _idx_labels([1, 2]), "3 images but .* 2 labels"),
        (_idx_images(2), _idx_labels([1, 10]), "labels outside 0..9"),
        (_idx_images(2, side=27), _idx_labels([1, 2]), "27 x 27 pixels, expected 28 x 28"),
    ],
)
def test_inconsistent_idx_pairs_are_rejected(tmp_path, monkeypatch, images, labels, message):
    unchecked = [RemoteFile(f.name, f.url) for f in datasets.IMAGE_DATASETS["mnist"]]
    monkeypatch.setitem(datasets.IMAGE_DATASETS, "mnist", unchecked)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
    (tmp_path / T10K_LABELS).write_bytes(gzip.compress(labels))
    with pytest.raises(ValueError, match=message):
        datasets.load_mnist("test", root=tmp_path, download=False)


# ---------------------------------------------------------------- CIFAR


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _cifar_batch(n: int, labels: dict[str, list[int]], seed: int) -> dict:
    data = np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)
    return {b"batch_label": b"batch", b"data": data, **{k.encode(): v for k, v in labels.items()}}


CIFAR10_NAMES = [f"class{i}" for i in range(10)]


def _cifar10_members() -> dict[str, bytes]:
    members = {
        f"cifar-10-batches-py/data_batch_{i}": pickle.dumps(_cifar_batch(4, {"labels": [i, 1, 2, 3]}, i))
        for i in range(1, 6)
    }
    members["cifar-10-batches-py/test_batch"] = pickle.dumps(_cifar_batch(3, {"labels": [9, 8, 7]}, 9))
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps(
        {b"label_names": [n.encode() for n in CIFAR10_NAMES], b"num_vis": 3072}
    )
    return members


def test_cifar10_from_the_archive_and_from_an_extracted_folder(tmp_path, monkeypatch, offline):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    members = _cifar10_members()
    archive = _tar(folder / "cifar-10-python.tar.gz", members)
    with pytest.raises(ChecksumError, match="c58f30108f718f92721af3b95e74349a"):  # not the real archive
        datasets.load_cifar10("train", root=folder)
    _set_digest(monkeypatch, "cifar10", archive)
    train = datasets.load_cifar10("train", root=folder)
    assert train.images.shape == (20, 3, 32, 32) and train.labels[:8].tolist() == [1, 1, 2, 3, 2, 1, 2, 3]
    raw = pickle.loads(members["cifar-10-batches-py/data_batch_1"])[b"data"]
    # a CIFAR row is 1024 red, 1024 green, 1024 blue values, each 32 x 32 row-major
    assert train.images[0, 1, 2, 5] == raw[0, 1024 + 2 * 32 + 5]
    assert train.images[3, 2, 31, 0] == raw[3, 2048 + 31 * 32]
    assert torch.equal(train.images[:4].reshape(4, -1), torch.from_numpy(raw))
    assert train.classes == CIFAR10_NAMES
    test = datasets.load_images("cifar10", "test", root=folder)
    assert test.labels.tolist() == [9, 8, 7] and test.name == "cifar10-test"

    # the extracted folder, without the archive: format checks only
    archive.unlink()
    with tarfile.open(_tar(tmp_path / "again.tar.gz", members)) as tar:
        tar.extractall(folder, filter="data")
    assert torch.equal(datasets.load_cifar10("train", root=folder).images, train.images)
    extracted = folder / "cifar-10-batches-py"
    assert torch.equal(datasets.load_cifar10("test", root=extracted).labels, test.labels)
    monkeypatch.setenv("KETML_DATA", str(tmp_path))
    row = next(r for r in datasets.describe() if r["dataset"] == "cifar10")
    assert row["status"] == "ok" and "extracted" in row["note"]
    (extracted / "data_batch_3").unlink()
    with pytest.raises(ValueError, match="has no data_batch_3"):
        datasets.load_cifar10("train", root=folder)


def test_malformed_cifar_pickles_are_refused(tmp_path):
    extracted = tmp_path / "cifar-10-batches-py"
    extracted.mkdir()
    for name, data in _cifar10_members().items():
        (tmp_path / name).write_bytes(data)

    class Evil:
        def __reduce__(self):
            return (shutil.rmtree, (str(tmp_path / "victim"),))

    (tmp_path / "victim").mkdir()
    (extracted / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(ValueError, match="test_batch.*refusing to load global shutil.rmtree"):
        datasets.load_cifar10("test", root=tmp_path)
    assert (tmp_path / "victim").is_dir()
    batch = _cifar_batch(2, {"labels": [1, 2]}, 0)
    batch[b"data"] = batch[b"data"][:, :3000]
    (extracted / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(ValueError, match="expected uint8 \\(N, 3072\\)"):
        datasets.load_cifar10("test", root=tmp_path)
    (extracted / "test_batch").write_bytes(pickle.dumps(_cifar_batch(2, {"labels": [1, 10]}, 0)))
    with pytest.raises(ValueError, match="labels outside 0..9"):
        datasets.load_cifar10("test", root=tmp_path)
    (extracted / "test_batch").write_bytes(pickle.dumps(_cifar_batch(2, {"labels": [1]}, 0)))
    with pytest.raises(ValueError, match="2 images but labels"):
        datasets.load_cifar10("test", root=tmp_path)
    (extracted / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="test_batch.*not a CIFAR python pickle"):
        datasets.load_cifar10("test", root=tmp_path)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_pickles_of_any_protocol_and_numpy_layout_load(protocol):
    batch = _cifar_batch(2, {"labels": [3, 4]}, 0)
    raw = pickle.dumps(batch, protocol=protocol)
    if protocol == 2:  # the original files name numpy 1's module (numpy 2 reads it through a shim)
        raw = raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    loaded = datasets.formats.unpickle(raw, "batch")
    assert np.array_equal(loaded[b"data"], batch[b"data"]) and loaded[b"labels"] == [3, 4]


def test_cifar100_fine_and_coarse_labels(tmp_path, monkeypatch, offline):
    folder = tmp_path / "cifar100"
    folder.mkdir()
    meta = {
        b"fine_label_names": [f"f{i}".encode() for i in range(100)],
        b"coarse_label_names": [f"c{i}".encode() for i in range(20)],
    }
    train = _cifar_batch(2, {"fine_labels": [99, 5], "coarse_labels": [19, 1]}, 1)
    test = _cifar_batch(1, {"fine_labels": [42], "coarse_labels": [7]}, 2)
    archive = _tar(
        folder / "cifar-100-python.tar.gz",
        {
            f"cifar-100-python/{k}": pickle.dumps(v)
            for k, v in {"train": train, "test": test, "meta": meta}.items()
        },
    )
    _set_digest(monkeypatch, "cifar100", archive)
    fine = datasets.load_cifar100("train", root=folder)
    assert fine.labels.tolist() == [99, 5] and fine.classes[99] == "f99" and len(fine.classes) == 100
    assert fine.images[1, 0, 0, 1] == train[b"data"][1, 1]
    coarse = datasets.load_cifar100("train", root=folder, label_mode="coarse")
    assert coarse.labels.tolist() == [19, 1] and coarse.classes[19] == "c19" and len(coarse.classes) == 20
    assert datasets.load_images("cifar100", "test", root=folder).labels.tolist() == [42]
    with pytest.raises(ValueError, match="label_mode"):
        datasets.load_cifar100("train", root=folder, label_mode="medium")


# ---------------------------------------------------------------- STL-10

STL_NAMES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def _stl_members(rng: np.random.Generator) -> tuple[dict[str, bytes], np.ndarray]:
    disk = rng.integers(0, 256, (3, 3, 96, 96), dtype=np.uint8)  # as stored: (N, C, W, H)
    members = {
        "stl10_binary/train_X.bin": disk[:2].tobytes(),
        "stl10_binary/train_y.bin": bytes([1, 10]),
        "stl10_binary/test_X.bin": disk[2:].tobytes(),
        "stl10_binary/test_y.bin": bytes([4]),
        "stl10_binary/unlabeled_X.bin": disk.tobytes(),
        "stl10_binary/class_names.txt": ("\n".join(STL_NAMES) + "\n").encode(),
    }
    return members, disk


def test_stl10_archive_is_extracted_once_and_transposed(tmp_path, monkeypatch, offline):
    folder = tmp_path / "stl10"
    folder.mkdir()
    members, disk = _stl_members(np.random.default_rng(0))
    archive = _tar(folder / "stl10_binary.tar.gz", members)
    _set_digest(monkeypatch, "stl10", archive)
    train = datasets.load_stl10("train", root=folder)
    assert sorted(p.name for p in folder.iterdir()) == ["stl10_binary", "stl10_binary.tar.gz"]
    assert train.images.shape == (2, 3, 96, 96) and train.labels.tolist() == [0, 9]
    # on disk each channel is column-major: file index (n, c, w, h) holds pixel (n, c, h, w)
    assert train.images[1, 2, 7, 3] == disk[1, 2, 3, 7] and disk[1, 2, 3, 7] != disk[1, 2, 7, 3]
    assert torch.equal(train.images, torch.from_numpy(disk[:2]).transpose(2, 3))
    assert train.classes == STL_NAMES
    archive.unlink()  # the extracted folder is used from now on
    test = datasets.load_images("stl10", "test", root=folder)
    assert test.labels.tolist() == [3] and torch.equal(
        test.images[0], torch.from_numpy(disk[2]).transpose(1, 2)
    )
    unlabeled = datasets.load_stl10("unlabeled", root=folder)
    assert len(unlabeled) == 3 and unlabeled.labels.tolist() == [-1, -1, -1]
    assert len(unlabeled.subset(2)) == 2


def test_malformed_stl10_folders_are_rejected(tmp_path):
    binary = tmp_path / "stl10_binary"
    binary.mkdir()
    members, _ = _stl_members(np.random.default_rng(1))
    for name, data in members.items():
        (tmp_path / name).write_bytes(data)
    assert len(datasets.load_stl10("test", root=tmp_path)) == 1
    (binary / "test_y.bin").write_bytes(bytes([0]))
    with pytest.raises(ValueError, match="test_y.bin.*1..10"):
        datasets.load_stl10("test", root=tmp_path)
    (binary / "test_y.bin").write_bytes(bytes([1, 2]))
    with pytest.raises(ValueError, match="1 images in test_X.bin but 2 labels"):
        datasets.load_stl10("test", root=tmp_path)
    (binary / "train_X.bin").write_bytes(members["stl10_binary/train_X.bin"][:-1])
    with pytest.raises(ValueError, match="train_X.bin.*not a whole number"):
        datasets.load_stl10("train", root=tmp_path)
    (binary / "test_X.bin").unlink()
    with pytest.raises(DataNotFoundError, match="lacks test_X.bin"):
        datasets.load_stl10("test", root=binary)  # root= may also be the extracted folder itself
    with pytest.raises(ValueError, match="split"):
        datasets.load_stl10("validation", root=tmp_path)


# ---------------------------------------------------------------- ImageDataset, digits, catalogue


def _toy(n: int = 100, classes: int = 4) -> ImageDataset:
    images = torch.arange(n, dtype=torch.uint8).reshape(n, 1, 1, 1).expand(n, 3, 2, 2).contiguous()
    return ImageDataset(images, torch.arange(n) % classes, [chr(97 + i) for i in range(classes)], "toy")


def test_image_dataset_subsets_and_splits_are_stratified_and_deterministic():
    ds = _toy()
    sub = ds.subset(20, seed=3)
    assert sub.labels.bincount().tolist() == [5, 5, 5, 5]
    assert torch.equal(sub.images, ds.subset(20, seed=3).images)
    assert not torch.equal(sub.images, ds.subset(20, seed=4).images)
    # the labels still match their images after the shuffle
    assert torch.equal(sub.images[:, 0, 0, 0].long() % 4, sub.labels)
    rest, held = ds.split(0.2, seed=1)
    assert len(rest) == 80 and len(held) == 20 and held.labels.bincount().tolist() == [5, 5, 5, 5]
    ids = torch.cat([rest.images[:, 0, 0, 0], held.images[:, 0, 0, 0]]).sort().values
    assert torch.equal(ids, torch.arange(100, dtype=torch.uint8))  # a partition
    assert torch.equal(held.images, ds.split(0.2, seed=1)[1].images)
    uneven = ImageDataset(
        torch.zeros(100, 1, 2, 2, dtype=torch.uint8), (torch.arange(100) >= 80).long(), ["a", "b"]
    )
    assert uneven.subset(10).labels.bincount().tolist() == [8, 2]
    with pytest.raises(ValueError, match="subset size"):
        ds.subset(0)
    with pytest.raises(ValueError, match="fraction"):
        ds.split(1.0)
    with pytest.raises(ValueError, match="uint8"):
        ImageDataset(torch.zeros(2, 1, 2, 2), torch.zeros(2), ["a"])
    with pytest.raises(ValueError, match="labels of shape"):
        ImageDataset(torch.zeros(2, 1, 2, 2, dtype=torch.uint8), torch.zeros(3), ["a"])


def test_image_dataset_items_tensors_statistics_and_transform():
    ds = _toy(10)
    x, y = ds[3]
    assert (
        x.dtype == torch.float32 and x.shape == (3, 2, 2) and torch.allclose(x, torch.full_like(x, 3 / 255))
    )
    assert y == 3 and len(ds) == 10
    xs, ys = ds.tensors()
    assert xs.shape == (10, 3, 2, 2) and torch.equal(ys, ds.labels) and xs.max() == 9 / 255
    reference = ds.images.double() / 255
    assert np.allclose(ds.mean, reference.mean(dim=(0, 2, 3)).tolist())
    assert np.allclose(ds.std, reference.std(dim=(0, 2, 3), unbiased=False).tolist())
    flipped = ImageDataset(ds.images, ds.labels, ds.classes, transform=lambda t: 1 - t)
    assert torch.allclose(flipped[3][0], 1 - x)
    assert flipped.subset(4).transform is flipped.transform


def test_digits_offline_resized_and_split():
    train, test = datasets.load_digits("train", size=28), datasets.load_digits("test", size=28)
    assert len(train) + len(test) == 1797 and len(test) == round(0.2 * 1797)
    assert train.images.shape[1:] == (1, 28, 28) and train.images.dtype == torch.uint8
    assert int(train.images.max()) == 255
    everything = datasets.load_digits("all")
    assert everything.images.shape == (1797, 1, 8, 8) and int(everything.images.max()) == 255
    counts = test.labels.bincount()
    assert counts.min() >= 34 and counts.max() <= 38  # stratified: ~36 of each digit
    assert torch.equal(datasets.load_images("digits", "test", size=28, root="ignored").images, test.images)
    assert not torch.equal(datasets.load_digits("test", seed=1).labels, datasets.load_digits("test").labels)
    with pytest.raises(ValueError, match="split"):
        datasets.load_digits("validation")
    with pytest.raises(UnknownNameError, match="unknown dataset"):
        datasets.load_images("imagenet")


def test_describe_reports_each_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KETML_DATA", str(tmp_path))
    assert datasets.data_home() == tmp_path
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / T10K_LABELS).write_bytes(b"junk")
    (tmp_path / "stl10" / "stl10_binary").mkdir(parents=True)
    rows = datasets.describe()
    assert {r["dataset"] for r in rows} == {"mnist", "fashion-mnist", "cifar10", "cifar100", "stl10"}
    assert len(rows) == 11 and all({"dataset", "file", "folder", "status"} <= set(r) for r in rows)
    by_file = {(r["dataset"], r["file"]): r for r in rows}
    corrupt = by_file[("mnist", T10K_LABELS)]
    assert corrupt["status"].startswith("corrupt (sha256 ") and corrupt["folder"] == str(tmp_path / "mnist")
    assert by_file[("mnist", "train-images-idx3-ubyte.gz")]["status"] == "missing"
    assert by_file[("stl10", "stl10_binary.tar.gz")]["status"] == "ok"
    monkeypatch.delenv("KETML_DATA")
    assert datasets.data_home() == Path.home() / ".cache" / "ketml"
