"""The ``vector-classification`` task: a generated feature table (``gaussian-classes``) -> class,
cross-entropy through the shared classifier loop; the central baseline of the federated runs."""

from __future__ import annotations

from qml.registry import register_task
from qml.training.classification import fit
from qml.training.task import Prepared, Task

from .pool import load_pool


class VectorClassification(Task):
    name = "vector-classification"
    kind = "tables"
    metric = "test_accuracy"
    metric_label = "test accuracy"
    description = "labelled feature vectors -> class (cross-entropy; test accuracy)"

    def datasets(self) -> tuple[str, ...]:
        return ("gaussian-classes",)

    def load(self, dataset, *, seed=0, subset=None, test_subset=None, data_root=None):
        pool = load_pool(dataset, seed=seed)
        x, y = pool.x_train, pool.y_train
        if subset is not None and subset < len(x):
            x, y = x[:subset], y[:subset]
        classes = [str(c) for c in range(pool.n_classes)]
        return Prepared((x, y), None, (pool.x_test, pool.y_test), pool.dims, {}, classes)

    def fit(self, model, prepared, config, *, out_dir, title, progress, resume, extra):
        return fit(
            model,
            prepared.train,
            None,
            prepared.test,
            config,
            out_dir=out_dir,
            n_classes=prepared.dims["n_classes"],
            classes=prepared.classes,
            title=title,
            progress=progress,
            resume=resume,
            extra=extra,
        )


register_task(VectorClassification())
