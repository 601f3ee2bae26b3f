"""Hybrid quantum-classical image classifiers, their classical twins, and the image task.

* :mod:`.hqnn`: HQNN-Parallel and HQNN-Quanv (Senokosov et al. 2024, arXiv 2304.09224).
* :mod:`.quanvolution`: the quanvolutional layer HQNN-Quanv is built on.
* :mod:`.hybrid_cnn`: the CNN + 4-qubit amplitude-encoded model (Shahzad 2025, arXiv 2509.13353).
* :mod:`.hybrid_digits`: the demo's CNN + variational-circuit classifier on 8 x 8 digits.
* :mod:`.attacks`: FGSM and PGD in pixel space, robust accuracy (``ketml evaluate --attack``).
* :mod:`.normalize`: per-channel normalisation inside the models, so attacks work in pixel space.
* :mod:`.task`: the image-classification task (loading, fit, ``ketml evaluate``'s attacks).

Each model registers itself next to its class.
"""

from . import task as _task  # noqa: F401  (registers the image-classification task)
from .hqnn import HQNNParallel, HQNNParallelClassical, HQNNQuanv, HQNNQuanvClassical
from .hybrid_cnn import EnhancedClassicalCNN, HybridCNN
from .hybrid_digits import HybridDigitsClassifier
from .normalize import NORMALIZATION, Normalize
from .quanvolution import Quanvolution

__all__ = [
    "NORMALIZATION",
    "EnhancedClassicalCNN",
    "HQNNParallel",
    "HQNNParallelClassical",
    "HQNNQuanv",
    "HQNNQuanvClassical",
    "HybridCNN",
    "HybridDigitsClassifier",
    "Normalize",
    "Quanvolution",
]
