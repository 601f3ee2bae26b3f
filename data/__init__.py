"""The data layer: a catalogue of every dataset ketml knows, its loaders, download/verify/cache.

``catalogue()`` lists the datasets (images, time series, bit sequences, RL environments,
sentences, the QASM corpus, tables, molecules), ``get(name)`` one entry, ``status(entry)``
whether it is usable here; ``ketml datasets`` prints them. Files live in
``$KETML_DATA/<name>/`` (default ``~/.cache/ketml``). ``data`` imports nothing from ``qml`` or
``chemistry``, so every package can use it. A new dataset is one ``register(Dataset(...))`` call
next to its loader, in any module of this package.
"""

from .cache import ChecksumError, DataNotFoundError, data_home, dataset_dir
from .image_dataset import ImageDataset
from .images import (
    IMAGE_DATASETS,
    describe,
    load_cifar10,
    load_cifar100,
    load_digits,
    load_fashion_mnist,
    load_images,
    load_mnist,
    load_stl10,
)
from .registry import KINDS, Dataset, Status, catalogue, fetch, get, names, register, status

__all__ = [
    "IMAGE_DATASETS",
    "KINDS",
    "ChecksumError",
    "DataNotFoundError",
    "Dataset",
    "ImageDataset",
    "Status",
    "catalogue",
    "data_home",
    "dataset_dir",
    "describe",
    "fetch",
    "get",
    "load_cifar10",
    "load_cifar100",
    "load_digits",
    "load_fashion_mnist",
    "load_images",
    "load_mnist",
    "load_stl10",
    "names",
    "register",
    "status",
]
