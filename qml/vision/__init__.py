"""Hybrid quantum-classical image classifiers and their classical twins.

* :mod:`.hqnn`: HQNN-Parallel and HQNN-Quanv (Senokosov et al. 2024, arXiv 2304.09224).
* :mod:`.quanvolution`: the quanvolutional layer HQNN-Quanv is built on.
* :mod:`.hybrid_cnn`: the CNN + 4-qubit amplitude-encoded model (Shahzad 2025, arXiv 2509.13353).
* :mod:`.normalize`: per-channel normalisation inside the models, so attacks work in pixel space.
"""

from .hqnn import HQNNParallel, HQNNParallelClassical, HQNNQuanv, HQNNQuanvClassical
from .hybrid_cnn import EnhancedClassicalCNN, HybridCNN
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
    "Normalize",
    "Quanvolution",
]
