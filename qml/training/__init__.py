"""The shared trainer behind ``ketml train`` / ``ketml evaluate``: one loop, tasks, run folders.

* :mod:`.config`: ``TrainConfig``, the settings of one run.
* :mod:`.optim`: optimisers and learning-rate schedules from a config.
* :mod:`.loop`: ``train_loop`` and its ``Hooks``: epochs, batches, checkpoints, ``metrics.json``.
* :mod:`.classification`: ``fit``, the classifier hooks (validation, best weights, confusion).
* :mod:`.task`: ``Task``, what a kind of problem supplies (data, dims, fit, headline metric).
* :mod:`.experiment`: ``train(model, dataset)`` and ``evaluate_run(run_dir)`` by name.
* :mod:`.augment`, :mod:`.evaluation`, :mod:`.plots`, :mod:`.checkpoint`, :mod:`.runs`:
  augmentations, accuracy, PNG plots, checkpoints, run folders. (FGSM/PGD: :mod:`qml.vision.attacks`.)
"""

from .classification import fit
from .config import TrainConfig
from .evaluation import evaluate_classifier
from .loop import Hooks, train_loop
from .task import Prepared, Task

__all__ = [
    "Hooks",
    "Prepared",
    "Task",
    "TrainConfig",
    "evaluate_classifier",
    "fit",
    "train_loop",
]
