"""The shared trainer behind ``ketml train`` / ``ketml evaluate``: one loop for every model.

* :mod:`.config`: ``TrainConfig``, the settings of one run.
* :mod:`.optim`: optimisers and learning-rate schedules from a config.
* :mod:`.augment`: batch augmentations (random affine) on tensors.
* :mod:`.loop`: ``fit``: epochs, validation, early stopping, checkpoints, ``metrics.json``, plots.
* :mod:`.evaluation`: accuracy, loss and confusion matrix over a tensor dataset.
* :mod:`.attacks`: FGSM and PGD in pixel space, and the PGD protocol of arXiv 2509.13353.
* :mod:`.plots`: learning curves and confusion matrices as PNG.
* :mod:`.runs`: run folders: config, weights, rebuilding a trained model.
"""

from .attacks import fgsm, pgd, pgd_normalized, robust_accuracy
from .config import TrainConfig
from .evaluation import evaluate_classifier
from .loop import fit

__all__ = ["TrainConfig", "evaluate_classifier", "fgsm", "fit", "pgd", "pgd_normalized", "robust_accuracy"]
