"""Loaders of the image datasets: MNIST, Fashion-MNIST, CIFAR-10/100, STL-10, scikit-learn digits.

Each ``load_*(split, root=None, download=True)`` finds the dataset's files in its folder (see
:mod:`.cache`), downloading missing ones from the canonical source and verifying every file
against the published checksum, and returns an :class:`ImageDataset`. An already-extracted
CIFAR or STL-10 folder (no archive) is accepted with format checks only, as no digest of the
extracted files is published.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from . import formats
from .cache import RemoteFile, dataset_dir, ensure_file
from .image_dataset import ImageDataset

_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # torchvision's mirror of yann.lecun.com
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

_IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_MNIST_SHA = (
    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
)
_FASHION_SHA = (
    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
)

#: Every downloadable file, by dataset folder name.
IMAGE_DATASETS: dict[str, list[RemoteFile]] = {
    "mnist": [RemoteFile(f, _MNIST_URL + f, sha256=h) for f, h in zip(_IDX_FILES, _MNIST_SHA, strict=True)],
    "fashion-mnist": [
        RemoteFile(f, _FASHION_URL + f, sha256=h) for f, h in zip(_IDX_FILES, _FASHION_SHA, strict=True)
    ],
    "cifar10": [
        RemoteFile(
            "cifar-10-python.tar.gz",
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            md5="c58f30108f718f92721af3b95e74349a",
        )
    ],
    "cifar100": [
        RemoteFile(
            "cifar-100-python.tar.gz",
            "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
            md5="eb9058c3a382ffc7106e4002c42a8d85",
        )
    ],
    "stl10": [
        RemoteFile(
            "stl10_binary.tar.gz",
            "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
            md5="91f7769df0f17e558f3565bffb0c7dfb",
        )
    ],
}

MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
STL10_CLASSES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def _check_split(split: str, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise ValueError(f"split must be one of {allowed}; got {split!r}")


def _spec(dataset: str, name: str) -> RemoteFile:
    return next(f for f in IMAGE_DATASETS[dataset] if f.name == name)


def _idx(dataset: str, classes: list[str], split: str, root, download: bool) -> ImageDataset:
    _check_split(split, ("train", "test"))
    folder = dataset_dir(dataset, root)
    prefix = "train" if split == "train" else "t10k"
    img = ensure_file(folder, _spec(dataset, f"{prefix}-images-idx3-ubyte.gz"), download=download)
    lab = ensure_file(folder, _spec(dataset, f"{prefix}-labels-idx1-ubyte.gz"), download=download)
    images = formats.read_idx(img, formats.IDX_IMAGES)
    labels = formats.read_idx(lab, formats.IDX_LABELS).to(torch.int64)
    if len(images) != len(labels):
        raise ValueError(f"{img} has {len(images)} images but {lab} has {len(labels)} labels")
    if labels.numel() and labels.max() >= len(classes):
        raise ValueError(f"{lab}: labels outside 0..{len(classes) - 1}")
    return ImageDataset(images.unsqueeze(1), labels, classes, f"{dataset}-{split}")


def load_mnist(
    split: str = "train", root: str | os.PathLike | None = None, download: bool = True
) -> ImageDataset:
    """MNIST handwritten digits: 60,000 train / 10,000 test images, 1 x 28 x 28."""
    return _idx("mnist", MNIST_CLASSES, split, root, download)


def load_fashion_mnist(
    split: str = "train", root: str | os.PathLike | None = None, download: bool = True
) -> ImageDataset:
    """Fashion-MNIST (Zalando): 60,000 train / 10,000 test images of clothing, 1 x 28 x 28."""
    return _idx("fashion-mnist", FASHION_CLASSES, split, root, download)


def _cifar_source(dataset: str, extracted: str, root, download: bool) -> Path:
    folder = dataset_dir(dataset, root)
    if (folder / extracted).is_dir():
        return folder / extracted
    return ensure_file(folder, IMAGE_DATASETS[dataset][0], download=download)


def load_cifar10(
    split: str = "train", root: str | os.PathLike | None = None, download: bool = True
) -> ImageDataset:
    """CIFAR-10: 50,000 train / 10,000 test colour images, 3 x 32 x 32, 10 classes."""
    _check_split(split, ("train", "test"))
    source = _cifar_source("cifar10", "cifar-10-batches-py", root, download)
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    batches = formats.cifar_members(source, names)
    x, y = formats.cifar_arrays([batches[n] for n in names], b"labels", str(source), 10)
    return ImageDataset(x, y, CIFAR10_CLASSES, f"cifar10-{split}")


def load_cifar100(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    label_mode: str = "fine",
) -> ImageDataset:
    """CIFAR-100: 50,000 train / 10,000 test images, 100 fine (or 20 coarse) classes."""
    _check_split(split, ("train", "test"))
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"label_mode must be 'fine' or 'coarse'; got {label_mode!r}")
    source = _cifar_source("cifar100", "cifar-100-python", root, download)
    batches = formats.cifar_members(source, [split, "meta"])
    key = f"{label_mode}_label_names".encode()
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in batches["meta"].get(key, [])]
    n_classes = 100 if label_mode == "fine" else 20
    if len(names) != n_classes:
        names = [str(i) for i in range(n_classes)]
    x, y = formats.cifar_arrays([batches[split]], f"{label_mode}_labels".encode(), str(source), n_classes)
    return ImageDataset(x, y, names, f"cifar100-{split}")


def load_stl10(
    split: str = "train", root: str | os.PathLike | None = None, download: bool = True
) -> ImageDataset:
    """STL-10: 5,000 train / 8,000 test labelled images (and 100,000 unlabelled), 3 x 96 x 96."""
    _check_split(split, ("train", "test", "unlabeled"))
    folder = dataset_dir("stl10", root)
    binary = folder / "stl10_binary"
    if not binary.is_dir():
        archive = ensure_file(folder, IMAGE_DATASETS["stl10"][0], download=download)
        formats.extract_tar(archive, folder)
        if not binary.is_dir():
            raise ValueError(f"{archive}: the archive has no stl10_binary/ folder")
    x = formats.read_stl_images(binary / f"{split}_X.bin")
    if split == "unlabeled":
        y = torch.full((len(x),), -1, dtype=torch.int64)
    else:
        y = formats.read_stl_labels(binary / f"{split}_y.bin")
        if len(y) != len(x):
            raise ValueError(f"{binary}: {len(x)} {split} images but {len(y)} labels")
    names_file = binary / "class_names.txt"
    classes = names_file.read_text().split() if names_file.is_file() else STL10_CLASSES
    return ImageDataset(x, y, classes, f"stl10-{split}")


def load_digits(
    split: str = "train", size: int | None = None, test_fraction: float = 0.2, seed: int = 0
) -> ImageDataset:
    """scikit-learn's bundled 8 x 8 digits (1,797 images, offline), optionally resized to ``size``;
    a fixed stratified train/test split (``"all"`` for every image)."""
    _check_split(split, ("train", "test", "all"))
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    if size is not None and size != 8:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    images = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    full = ImageDataset(images, torch.as_tensor(bunch.target), MNIST_CLASSES, "digits")
    if split == "all":
        return full
    train, test = full.split(test_fraction, seed=seed)
    out = train if split == "train" else test
    out.name = f"digits-{split}"
    return out


_LOADERS = {
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "cifar100": load_cifar100,
    "stl10": load_stl10,
}


def load_images(name: str, split: str = "train", **kwargs) -> ImageDataset:
    """A dataset by name: mnist, fashion-mnist, cifar10, cifar100, stl10 or digits."""
    if name == "digits":
        kwargs.pop("root", None)
        kwargs.pop("download", None)
        return load_digits(split, **kwargs)
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join([*_LOADERS, 'digits'])}")
    return _LOADERS[name](split, **kwargs)


def describe() -> list[dict[str, str]]:
    """One row per catalogue file: dataset, file, folder, status (ok / missing / corrupt / extracted)."""
    from .cache import ChecksumError, verify

    rows = []
    extracted = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python", "stl10": "stl10_binary"}
    for dataset, files in IMAGE_DATASETS.items():
        folder = dataset_dir(dataset)
        for spec in files:
            path = folder / spec.name
            if path.is_file():
                try:
                    verify(path, spec)
                    status = "ok"
                except ChecksumError:
                    status = "corrupt"
            elif dataset in extracted and (folder / extracted[dataset]).is_dir():
                status = "extracted"
            else:
                status = "missing"
            rows.append(
                {
                    "dataset": dataset,
                    "file": spec.name,
                    "folder": str(folder),
                    "status": status,
                    "url": spec.url,
                }
            )
    return rows
