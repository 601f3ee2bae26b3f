"""Datasets: real image sets (downloaded, checksummed, cached) and generated sequence tasks.

``load_images(name, split)`` for mnist, fashion-mnist, cifar10, cifar100, stl10 and digits;
files live in ``$KETML_DATA/<name>/`` (default ``~/.cache/ketml``); ``describe()`` lists them.
The sequence tasks are in :mod:`.sequences` and :mod:`.qrnn_tasks`.
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

__all__ = [
    "IMAGE_DATASETS",
    "ChecksumError",
    "DataNotFoundError",
    "ImageDataset",
    "data_home",
    "dataset_dir",
    "describe",
    "load_cifar10",
    "load_cifar100",
    "load_digits",
    "load_fashion_mnist",
    "load_images",
    "load_mnist",
    "load_stl10",
]
