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

from circuits.errors import ConfigurationError, DataError, UnknownNameError

from . import formats
from .cache import DataNotFoundError, RemoteFile, checksum_problem, dataset_dir, ensure_files
from .image_dataset import ImageDataset
from .registry import Dataset, register

_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # torchvision's mirror of yann.lecun.com
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

_IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
# SHA-256 of the canonical files (as in ../shared/data/*/SHA256SUMS; those copies also match the
# published MD5s, e.g. f68b3c2dcbeaaa9fbdd348bbdeb94873 for MNIST's train-images)
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


PathLike = str | os.PathLike


def _check_split(split: str, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise ConfigurationError(f"split must be one of {allowed}; got {split!r}")


def _spec(dataset: str, name: str) -> RemoteFile:
    return next(f for f in IMAGE_DATASETS[dataset] if f.name == name)


def _idx(dataset: str, classes: list[str], split: str, root: PathLike | None, download: bool) -> ImageDataset:
    _check_split(split, ("train", "test"))
    folder = dataset_dir(dataset, root)
    prefix = "train" if split == "train" else "t10k"
    specs = [
        _spec(dataset, f"{prefix}-images-idx3-ubyte.gz"),
        _spec(dataset, f"{prefix}-labels-idx1-ubyte.gz"),
    ]
    img, lab = ensure_files(folder, specs, download=download)
    images = formats.read_idx(img, formats.IDX_IMAGES)
    labels = formats.read_idx(lab, formats.IDX_LABELS).to(torch.int64)
    if images.shape[1:] != (28, 28):
        raise DataError(f"{img}: images of {images.shape[1]} x {images.shape[2]} pixels, expected 28 x 28")
    if len(images) != len(labels):
        raise DataError(f"{img} has {len(images)} images but {lab} has {len(labels)} labels")
    if labels.numel() and labels.max() >= len(classes):
        raise DataError(f"{lab}: labels outside 0..{len(classes) - 1}")
    return ImageDataset(images.unsqueeze(1), labels, classes, f"{dataset}-{split}")


def load_mnist(split: str = "train", root: PathLike | None = None, download: bool = True) -> ImageDataset:
    """MNIST handwritten digits: 60,000 train / 10,000 test images, 1 x 28 x 28, classes "0".."9"."""
    return _idx("mnist", MNIST_CLASSES, split, root, download)


def load_fashion_mnist(
    split: str = "train", root: PathLike | None = None, download: bool = True
) -> ImageDataset:
    """Fashion-MNIST (Zalando): 60,000 train / 10,000 test images of clothing, 1 x 28 x 28."""
    return _idx("fashion-mnist", FASHION_CLASSES, split, root, download)


_EXTRACTED = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python", "stl10": "stl10_binary"}
# a file that tells an extracted folder passed directly as root=
_EXTRACTED_MARK = {"cifar10": "batches.meta", "cifar100": "meta", "stl10": "class_names.txt"}


def _extracted_folder(dataset: str, folder: Path) -> Path | None:
    """The dataset's extracted folder inside ``folder`` (or ``folder`` itself), if there is one."""
    if (folder / _EXTRACTED[dataset]).is_dir():
        return folder / _EXTRACTED[dataset]
    if (folder / _EXTRACTED_MARK[dataset]).is_file():
        return folder
    return None


def _cifar_source(dataset: str, root: PathLike | None, download: bool) -> Path:
    """The verified archive if present, else an extracted folder (format checks only), else the
    archive downloaded."""
    folder = dataset_dir(dataset, root)
    spec = IMAGE_DATASETS[dataset][0]
    if not (folder / spec.name).is_file():
        extracted = _extracted_folder(dataset, folder)
        if extracted is not None:
            return extracted
    return ensure_files(folder, [spec], download=download)[0]


def load_cifar10(split: str = "train", root: PathLike | None = None, download: bool = True) -> ImageDataset:
    """CIFAR-10: 50,000 train / 10,000 test colour images, 3 x 32 x 32, 10 classes.

    Read from ``cifar-10-python.tar.gz`` (checksummed, nothing extracted) or, without it, from an
    extracted ``cifar-10-batches-py/`` (format checks only)."""
    _check_split(split, ("train", "test"))
    source = _cifar_source("cifar10", root, download)
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    batches = formats.cifar_members(source, names, optional=["batches.meta"])
    x, y = formats.cifar_arrays([batches[n] for n in names], b"labels", str(source), 10)
    classes = CIFAR10_CLASSES
    if "batches.meta" in batches:
        classes = formats.label_names(batches["batches.meta"], b"label_names", 10, f"{source}:batches.meta")
    return ImageDataset(x, y, classes, f"cifar10-{split}")


def load_cifar100(
    split: str = "train",
    root: PathLike | None = None,
    download: bool = True,
    label_mode: str = "fine",
) -> ImageDataset:
    """CIFAR-100: 50,000 train / 10,000 test images, 3 x 32 x 32, with the 100 fine labels (or the
    20 coarse ones, ``label_mode="coarse"``); class names from the ``meta`` file.

    Read from ``cifar-100-python.tar.gz`` (checksummed, nothing extracted) or, without it, from an
    extracted ``cifar-100-python/`` (format checks only)."""
    _check_split(split, ("train", "test"))
    if label_mode not in ("fine", "coarse"):
        raise ConfigurationError(f"label_mode must be 'fine' or 'coarse'; got {label_mode!r}")
    source = _cifar_source("cifar100", root, download)
    batches = formats.cifar_members(source, [split, "meta"])
    n_classes = 100 if label_mode == "fine" else 20
    names = formats.label_names(
        batches["meta"], f"{label_mode}_label_names".encode(), n_classes, f"{source}:meta"
    )
    x, y = formats.cifar_arrays([batches[split]], f"{label_mode}_labels".encode(), str(source), n_classes)
    return ImageDataset(x, y, names, f"cifar100-{split}")


def load_stl10(split: str = "train", root: PathLike | None = None, download: bool = True) -> ImageDataset:
    """STL-10: 5,000 train / 8,000 test labelled images and 100,000 unlabelled ones (label -1),
    3 x 96 x 96, 10 classes.

    Read from the extracted ``stl10_binary/`` folder (format checks only); if only the archive
    ``stl10_binary.tar.gz`` is there it is verified and extracted once into the dataset folder."""
    _check_split(split, ("train", "test", "unlabeled"))
    folder = dataset_dir("stl10", root)
    binary = _extracted_folder("stl10", folder)
    if binary is None:
        (archive,) = ensure_files(folder, IMAGE_DATASETS["stl10"], download=download)
        binary = formats.extract_tar(archive, folder, _EXTRACTED["stl10"])
    needed = [f"{split}_X.bin"] + ([] if split == "unlabeled" else [f"{split}_y.bin"])
    absent = [n for n in needed if not (binary / n).is_file()]
    if absent:
        raise DataNotFoundError(
            f"{binary} lacks {', '.join(absent)}: an incomplete STL-10 folder. Delete it and put "
            f"{IMAGE_DATASETS['stl10'][0].name} ({IMAGE_DATASETS['stl10'][0].url}) into {folder}"
        )
    x = formats.read_stl_images(binary / needed[0])
    if split == "unlabeled":
        y = torch.full((len(x),), -1, dtype=torch.int64)
    else:
        y = formats.read_stl_labels(binary / needed[1])
        if len(y) != len(x):
            raise DataError(f"{binary}: {len(x)} images in {needed[0]} but {len(y)} labels in {needed[1]}")
    classes = STL10_CLASSES
    names_file = binary / "class_names.txt"
    if names_file.is_file():
        classes = [line.strip() for line in names_file.read_text().splitlines() if line.strip()]
        if len(classes) != 10:
            raise DataError(f"{names_file}: {len(classes)} class names, expected 10")
    return ImageDataset(x, y, classes, f"stl10-{split}")


def load_digits(
    split: str = "train", size: int | None = None, test_fraction: float = 0.2, seed: int = 0
) -> ImageDataset:
    """scikit-learn's bundled 8 x 8 digits (1,797 images, no download) as uint8 0..255 (from 0..16),
    optionally resized to ``size x size`` (bilinear); a fixed stratified train/test split by
    ``test_fraction`` and ``seed`` (``split="all"`` for every image)."""
    _check_split(split, ("train", "test", "all"))
    if size is not None and size < 1:
        raise ConfigurationError(f"size must be a positive number of pixels; got {size}")
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
    """A dataset by name: mnist, fashion-mnist, cifar10, cifar100, stl10 or digits; ``kwargs`` go
    to its loader (``root`` and ``download`` are ignored for digits, which need no files)."""
    if name == "digits":
        kwargs.pop("root", None)
        kwargs.pop("download", None)
        return load_digits(split, **kwargs)
    if name not in _LOADERS:
        raise UnknownNameError(f"unknown dataset {name!r}; known: {', '.join([*_LOADERS, 'digits'])}")
    return _LOADERS[name](split, **kwargs)


def describe() -> list[dict[str, str]]:
    """One row per catalogue file: ``dataset``, ``file``, ``folder`` (where it is expected),
    ``status`` ("ok", "missing" or "corrupt (reason)"), ``url`` and ``note``. A CIFAR/STL-10 archive
    that is absent but whose extracted folder is there counts as "ok" (with a note: unchecksummed)."""
    rows = []
    for dataset, files in IMAGE_DATASETS.items():
        folder = dataset_dir(dataset)
        for spec in files:
            path = folder / spec.name
            note = ""
            if path.is_file():
                try:
                    problem = checksum_problem(path, spec.sha256, spec.md5)
                except OSError as exc:
                    problem = f"unreadable: {exc.strerror or exc}"
                status = "ok" if problem is None else f"corrupt ({problem})"
            elif dataset in _EXTRACTED and (extracted := _extracted_folder(dataset, folder)) is not None:
                status = "ok"
                note = f"extracted folder {extracted} (no checksum; format checked on load)"
            else:
                status = "missing"
            rows.append(
                {
                    "dataset": dataset,
                    "file": spec.name,
                    "folder": str(folder),
                    "status": status,
                    "url": spec.url,
                    "note": note,
                }
            )
    return rows


register(
    Dataset(
        "mnist",
        "images",
        "handwritten digits 0-9: 60,000 train / 10,000 test, 1 x 28 x 28 (IDX)",
        load_mnist,
        tuple(IMAGE_DATASETS["mnist"]),
        source="Y. LeCun, C. Cortes, C.J.C. Burges, yann.lecun.com/exdb/mnist (torchvision's mirror)",
        licence="none stated; commonly redistributed under CC BY-SA 3.0",
        size="11.6 MB",
    )
)
register(
    Dataset(
        "fashion-mnist",
        "images",
        "Zalando clothing images, 10 classes: 60,000 train / 10,000 test, 1 x 28 x 28 (IDX)",
        load_fashion_mnist,
        tuple(IMAGE_DATASETS["fashion-mnist"]),
        source="Xiao, Rasul, Vollgraf, arXiv:1708.07747 (github.com/zalandoresearch/fashion-mnist)",
        licence="MIT",
        size="30.9 MB",
    )
)
register(
    Dataset(
        "cifar10",
        "images",
        "colour images, 10 classes: 50,000 train / 10,000 test, 3 x 32 x 32 (python pickles)",
        load_cifar10,
        tuple(IMAGE_DATASETS["cifar10"]),
        extracted=(_EXTRACTED["cifar10"], _EXTRACTED_MARK["cifar10"]),
        source="A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images (2009), cs.toronto.edu",
        licence="none stated",
        size="170 MB",
    )
)
register(
    Dataset(
        "cifar100",
        "images",
        "colour images, 100 fine / 20 coarse classes: 50,000 train / 10,000 test, 3 x 32 x 32",
        load_cifar100,
        tuple(IMAGE_DATASETS["cifar100"]),
        extracted=(_EXTRACTED["cifar100"], _EXTRACTED_MARK["cifar100"]),
        source="A. Krizhevsky (2009), cs.toronto.edu/~kriz/cifar.html",
        licence="none stated",
        size="169 MB",
    )
)
register(
    Dataset(
        "stl10",
        "images",
        "colour images, 10 classes: 5,000 train / 8,000 test / 100,000 unlabelled, 3 x 96 x 96",
        load_stl10,
        tuple(IMAGE_DATASETS["stl10"]),
        extracted=(_EXTRACTED["stl10"], _EXTRACTED_MARK["stl10"]),
        source="Coates, Lee, Ng, AISTATS 2011 (ai.stanford.edu/~acoates/stl10)",
        licence="none stated",
        size="2.64 GB",
        how_to_get="downloaded and verified on first use, then extracted once",
    )
)
register(
    Dataset(
        "digits",
        "images",
        "scikit-learn's 8 x 8 handwritten digits, 1,797 images, 10 classes (the offline demo's data)",
        load_digits,
        requires=("sklearn",),
        source="UCI Optical Recognition of Handwritten Digits, bundled with scikit-learn",
        licence="CC BY 4.0 (UCI); scikit-learn BSD-3-Clause",
        size="1,797 images",
        how_to_get="bundled with scikit-learn (a ketml dependency): nothing to download",
    )
)


__all__ = [
    "CIFAR10_CLASSES",
    "FASHION_CLASSES",
    "IMAGE_DATASETS",
    "MNIST_CLASSES",
    "STL10_CLASSES",
    "describe",
    "load_cifar10",
    "load_cifar100",
    "load_digits",
    "load_fashion_mnist",
    "load_images",
    "load_mnist",
    "load_stl10",
]
