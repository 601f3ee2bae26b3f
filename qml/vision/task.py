"""The image-classification task: image sets from :mod:`data`, cross-entropy through the shared
loop, test accuracy as the headline, and ``ketml evaluate``'s clean and adversarial accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import data
from circuits.errors import ConfigurationError
from qml.registry import register_task
from qml.training.classification import fit
from qml.training.evaluation import evaluate_classifier
from qml.training.runs import append_json_list
from qml.training.task import Prepared, Task
from qml.vision.attacks import ATTACKS, robust_accuracy

#: digits are resized to this side by default, the size the MNIST-sized models expect
DIGITS_SIZE = 28


def load_split(dataset: str, split: str, root: str | None = None, image_size: int | None = None):
    """An image dataset split by name (digits are resized to ``image_size``, default 28 x 28)."""
    whole = isinstance(image_size, int) and not isinstance(image_size, bool)
    if image_size is not None and not (whole and image_size >= 1):
        raise ConfigurationError(f"image_size must be a whole number of pixels >= 1; got {image_size!r}")
    if dataset == "digits":
        return data.load_digits(split, size=image_size or DIGITS_SIZE)
    if image_size is not None:
        raise ConfigurationError(f"image_size applies to digits only; {dataset} images keep their size")
    return data.load_images(dataset, split, root=root)


def _test_size(n_train: int | None, n_test: int) -> int:
    return n_test if n_train is None else min(n_test, max(100, n_train // 4))


class ImageClassification(Task):
    name = "image-classification"
    kind = "images"
    metric = "test_accuracy"
    metric_label = "test accuracy"
    description = "labelled images -> class (cross-entropy; test accuracy; ketml evaluate attacks)"

    def load(self, dataset, *, seed=0, subset=None, test_subset=None, data_root=None, image_size=None):
        train_ds = load_split(dataset, "train", data_root, image_size)
        test_ds = load_split(dataset, "test", data_root, image_size)
        if subset is not None and subset < len(train_ds):
            train_ds = train_ds.subset(subset, seed=seed)
        n_test = test_subset if test_subset is not None else _test_size(subset, len(test_ds))
        if n_test < len(test_ds):
            test_ds = test_ds.subset(n_test, seed=seed)
        x, _ = train_ds.tensors()
        dims = {
            "dataset": dataset,
            "n_classes": len(train_ds.classes),
            "in_channels": x.shape[1],
            "image_size": x.shape[2],
        }
        return Prepared(train_ds, None, test_ds, dims, {"test_subset": n_test}, train_ds.classes)

    def fit(self, model, prepared, config, *, out_dir, title, progress, resume, extra):
        train_ds, test_ds = prepared.train, prepared.test
        seed = config.seed
        if config.val_fraction > 0:
            train_ds, val_ds = train_ds.split(config.val_fraction, seed=seed)
        else:
            val_ds = None
        return fit(
            model,
            train_ds.tensors(),
            None if val_ds is None else val_ds.tensors(),
            test_ds.tensors(),
            config,
            out_dir=out_dir,
            n_classes=prepared.dims["n_classes"],
            classes=prepared.classes,
            title=title,
            progress=progress,
            resume=resume,
            extra=extra,
        )

    def evaluate(
        self,
        run_dir: Path,
        saved: dict[str, Any],
        *,
        attack: str = "none",
        eps: float = 0.1,
        alpha: float = 0.01,
        steps: int = 10,
        subset: int | None = None,
        batch_size: int = 256,
        device: str = "cpu",
        seed: int = 0,
        data_root: str | None = None,
        progress: bool = True,
    ) -> dict[str, Any]:
        """Clean and (with ``attack``) adversarial test accuracy, appended to ``evaluation.json``.

        The test images are the run's own (same subset); ``seed`` seeds PGD's random start."""
        from qml.training.experiment import load_trained

        if attack not in ATTACKS:
            raise ConfigurationError(f"attack must be one of {', '.join(ATTACKS)}; got {attack!r}")
        net, saved = load_trained(run_dir, device)
        image_size = saved.get("data_options", {}).get("image_size")
        test_ds = load_split(saved["dataset"], "test", data_root, image_size)
        n = subset if subset is not None else saved.get("test_subset")
        if n is not None and n < len(test_ds):
            test_ds = test_ds.subset(n, seed=saved["config"]["seed"])  # the images the run was tested on
        x, y = test_ds.tensors()
        n_classes = saved["info"]["n_classes"]
        clean = evaluate_classifier(net, x, y, n_classes, batch_size=batch_size, device=device)
        entry: dict[str, Any] = {"attack": attack, "n_test": len(x), "clean_accuracy": clean["accuracy"]}
        if attack != "none":
            entry.update(eps=eps, alpha=alpha, steps=steps if attack != "fgsm" else 1, seed=seed)
            entry["robust_accuracy"] = robust_accuracy(
                net,
                x,
                y,
                attack,
                eps,
                alpha,
                steps,
                batch_size=batch_size,
                device=device,
                seed=seed,
                progress=progress,
            )
        append_json_list(Path(run_dir) / "evaluation.json", entry)  # an unreadable one is set aside
        return entry


register_task(ImageClassification())
