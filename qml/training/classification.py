"""``fit``: classifiers on in-memory image tensors through the shared loop.

Cross-entropy (with optional label smoothing) on seeded mini-batches, optional random-affine
augmentation, validation after each epoch, the best weights (by validation accuracy, or training
accuracy without a validation set) kept and tested; ``curves.png`` and ``confusion.png``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from circuits.errors import DataError

from .augment import random_affine
from .config import TrainConfig
from .evaluation import evaluate_classifier
from .loop import Hooks, train_loop
from .plots import plot_confusion, plot_curves

Tensors = tuple[torch.Tensor, torch.Tensor]


class ClassifierHooks(Hooks):
    """Cross-entropy training, validation accuracy as the score, a confusion matrix at the end."""

    skip_single = True
    keep_best = True

    def __init__(
        self,
        train: Tensors,
        val: Tensors | None,
        test: Tensors | None,
        config: TrainConfig,
        n_classes: int,
        classes: Sequence[str] | None = None,
    ):
        self.x, self.y = train
        if len(self.x) < 2:
            raise DataError(f"need at least 2 training samples; got {len(self.x)}")
        self.n_train = len(self.x)
        self.val = val if val is not None and len(val[0]) else None
        self.test = test if test is not None and len(test[0]) else None
        self.config, self.n_classes = config, n_classes
        self.classes = list(classes) if classes is not None else [str(i) for i in range(n_classes)]

    def begin_epoch(self) -> None:
        self.correct, self.seen = 0, 0

    def batch_loss(self, model, idx, generator):
        xb = self.x[idx]
        if self.config.augment == "affine":
            xb = random_affine(xb, generator=generator)
        xb, yb = xb.to(self.config.device), self.y[idx].to(self.config.device)
        logits = model(xb)
        self.correct += int((logits.detach().argmax(1) == yb).sum())
        self.seen += len(idx)
        return F.cross_entropy(logits, yb, label_smoothing=self.config.label_smoothing)

    def postfix(self) -> dict[str, str]:
        return {"acc": f"{self.correct / max(self.seen, 1):.4f}"}

    def _evaluate(self, model, data: Tensors) -> dict[str, Any]:
        c = self.config
        return evaluate_classifier(
            model, *data, self.n_classes, batch_size=c.eval_batch_size, device=c.device
        )

    def end_epoch(self, model, generator):
        record = {"train_accuracy": self.correct / max(self.seen, 1)}
        if self.val is not None:
            v = self._evaluate(model, self.val)
            record.update(val_loss=v["loss"], val_accuracy=v["accuracy"])
        else:
            record.update(val_loss=float("nan"), val_accuracy=float("nan"))
        return record

    def score(self, record):
        return record["val_accuracy"] if self.val is not None else record["train_accuracy"]

    def message(self, epoch, r):
        return (
            f"epoch {epoch}: loss {r['train_loss']:.4f} acc {r['train_accuracy']:.4f} | val loss "
            f"{r['val_loss']:.4f} acc {r['val_accuracy']:.4f} | {r['seconds']:.1f} s"
        )

    def finish(self, model, history, out_dir, title):
        plot_curves(history, Path(out_dir) / "curves.png", title)
        out: dict[str, Any] = {
            "n_val": 0 if self.val is None else len(self.val[0]),
            "best_val_accuracy": None if self.val is None else max(history["val_accuracy"]),
        }
        if self.test is not None:
            t = self._evaluate(model, self.test)
            out.update(
                test_accuracy=t["accuracy"],
                test_loss=t["loss"],
                n_test=len(self.test[0]),
                confusion=t["confusion"],
            )
            plot_confusion(t["confusion"], self.classes, Path(out_dir) / "confusion.png", f"{title} (test)")
        return out


def fit(
    model: nn.Module,
    train: Tensors,
    val: Tensors | None,
    test: Tensors | None,
    config: TrainConfig,
    *,
    out_dir: Path,
    n_classes: int,
    classes: Sequence[str] | None = None,
    title: str = "",
    progress: bool = True,
    resume: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train a classifier on ``train`` (images in [0, 1], integer labels); returns the metrics dict
    also written to ``out_dir/metrics.json``. ``resume`` continues from ``out_dir/checkpoint.pt``."""
    hooks = ClassifierHooks(train, val, test, config, n_classes, classes)
    return train_loop(
        model, hooks, config, out_dir=out_dir, title=title, progress=progress, resume=resume, extra=extra
    )
