"""Hooks of the shared loop for the sequence models: regression on windows (QLSTM, QFWP, ...) and
the QRNN's teacher forcing with postselection.

Both run through :func:`qml.training.loop.train_loop`: seeded mini-batches, a checkpoint after
every epoch (``resume=True`` continues), ``metrics.json`` and PNG plots in ``out_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from qml.training.config import TrainConfig
from qml.training.loop import Hooks, train_loop
from qml.training.plots import plot_losses, plot_series

from .qrnn import _bits_to_int, qrnn_loss

Pair = tuple[torch.Tensor, torch.Tensor]
Triple = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@torch.no_grad()
def predict_last(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The model's last-step outputs ``(N, out)`` for windows ``x`` ``(N, T, d)``."""
    model.eval()
    return torch.cat([model(x[i : i + batch_size])[:, -1] for i in range(0, len(x), batch_size)])


class RegressionHooks(Hooks):
    """MSE of the last step's output against ``y``; test MSE after each epoch; a prediction plot."""

    def __init__(self, train: Pair, test: Pair):
        (self.x, self.y), (self.x_test, self.y_test) = train, test
        self.n_train = len(self.x)
        self.loss_fn = nn.MSELoss()

    def batch_loss(self, model, idx, generator):
        return self.loss_fn(model(self.x[idx])[:, -1], self.y[idx])

    def end_epoch(self, model, generator):
        return {"test_mse": float(self.loss_fn(predict_last(model, self.x_test), self.y_test))}

    def finish(self, model, history, out_dir, title):
        pred_train, pred_test = predict_last(model, self.x), predict_last(model, self.x_test)
        plot_losses(
            {"train MSE": history["train_loss"], "test MSE": history["test_mse"]},
            Path(out_dir) / "curves.png",
            title,
            log=True,
        )
        plot_series(
            torch.cat([self.y, self.y_test]),
            torch.cat([pred_train, pred_test]),
            len(self.y),
            Path(out_dir) / "prediction.png",
            title,
        )
        return {
            "test_mse": float(nn.functional.mse_loss(pred_test, self.y_test)),
            "train_mse": float(nn.functional.mse_loss(pred_train, self.y)),
            "n_test": len(self.x_test),
        }


def _qrnn_eval(model, data: Triple, batch_size: int, generator: torch.Generator) -> dict[str, float]:
    """Sampled accuracy on the scored steps (postselecting only the unscored ones, as Bausch's
    validation does), argmax accuracy and loss; ``data`` is ``(inputs, targets, mask)``."""
    inputs, targets, mask = data
    model.eval()
    correct = argmax_correct = total = 0
    losses = []
    with torch.no_grad():
        for i in range(0, len(inputs), batch_size):
            x, y, m = inputs[i : i + batch_size], targets[i : i + batch_size], mask[i : i + batch_size]
            out = model(x, y, ~m, generator=generator)
            losses.append(float(qrnn_loss(out.probs, y, m)) * len(x))
            hit = (out.measured == y).all(-1)
            correct += int(hit[m].sum())
            argmax_correct += int((out.probs.argmax(-1) == _bits_to_int(y))[m].sum())
            total += int(m.sum())
    return {
        "accuracy": correct / max(total, 1),
        "argmax_accuracy": argmax_correct / max(total, 1),
        "loss": sum(losses) / max(len(inputs), 1),
    }


class QRNNHooks(Hooks):
    """Teacher forcing (postselect every step on its target), Bausch's loss on the scored steps
    (``mask``); tracks the postselection (success) probabilities."""

    def __init__(self, train: Triple, test: Triple, config: TrainConfig):
        self.inputs, self.targets, self.mask = train
        self.test, self.config = test, config
        self.n_train = len(self.inputs)

    def begin_epoch(self) -> None:
        self.p_min, self.p_sum, self.p_n = 1.0, 0.0, 0

    def batch_loss(self, model, idx, generator):
        out = model(self.inputs[idx], self.targets[idx], True)
        ps = out.postselection_probs.detach()
        self.p_min = min(self.p_min, float(ps.min()))
        self.p_sum += float(ps.sum())
        self.p_n += ps.numel()
        return qrnn_loss(out.probs, self.targets[idx], self.mask[idx])

    def end_epoch(self, model, generator):
        ev = _qrnn_eval(model, self.test, self.config.eval_batch_size, generator)
        return {
            "test_loss": ev["loss"],
            "test_accuracy": ev["accuracy"],
            "test_argmax_accuracy": ev["argmax_accuracy"],
            "min_postselection_prob": self.p_min,
            "mean_postselection_prob": self.p_sum / max(self.p_n, 1),
        }

    def message(self, epoch, r):
        return (
            f"epoch {epoch}: loss {r['train_loss']:.4f} | test accuracy {r['test_accuracy']:.4f} "
            f"| min postselection p {r['min_postselection_prob']:.3g}"
        )

    def finish(self, model, history, out_dir, title):
        plot_losses(
            {"train loss": history["train_loss"], "test loss": history["test_loss"]},
            Path(out_dir) / "curves.png",
            title,
        )
        plot_losses(
            {"min": history["min_postselection_prob"], "mean": history["mean_postselection_prob"]},
            Path(out_dir) / "postselection.png",
            f"{title}: postselection (success) probability",
            log=True,
            ylabel="probability",
        )
        return {
            "test_accuracy": history["test_accuracy"][-1],
            "test_argmax_accuracy": history["test_argmax_accuracy"][-1],
            "test_error_rate": 1 - history["test_accuracy"][-1],
            "test_loss": history["test_loss"][-1],
            "n_test": len(self.test[0]),
        }


def fit_regression(
    model: nn.Module,
    train: Pair,
    test: Pair,
    config: TrainConfig,
    *,
    out_dir: Path,
    title: str = "",
    progress: bool = True,
    resume: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Minimise the MSE of the last step's output against ``y`` on windows ``(N, T, d) -> (N, out)``."""
    return train_loop(
        model,
        RegressionHooks(train, test),
        config,
        out_dir=out_dir,
        title=title,
        progress=progress,
        resume=resume,
        extra=extra,
    )


def fit_qrnn(
    model: nn.Module,
    train: Triple,
    test: Triple,
    config: TrainConfig,
    *,
    out_dir: Path,
    title: str = "",
    progress: bool = True,
    resume: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Teacher-forced QRNN training on ``(inputs, targets, mask)`` triples (see :class:`QRNNHooks`)."""
    return train_loop(
        model,
        QRNNHooks(train, test, config),
        config,
        out_dir=out_dir,
        title=title,
        progress=progress,
        resume=resume,
        extra=extra,
    )
