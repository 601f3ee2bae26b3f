"""Training loops for the sequence models: regression on windows (QLSTM, QFWP, ...) and the QRNN's
teacher-forced training with postselection.

Both follow :func:`qml.training.loop.fit`'s conventions: seeded mini-batches, a checkpoint after
every epoch (``resume=True`` continues), ``metrics.json`` and PNG plots in ``out_dir``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .loop import count_parameters
from .optim import make_optimizer, make_scheduler, update
from .runs import save_torch, write_json

Pair = tuple[torch.Tensor, torch.Tensor]


def _batches(n: int, size: int, generator: torch.Generator) -> list[torch.Tensor]:
    order = torch.randperm(n, generator=generator)
    return [order[i : i + size] for i in range(0, n, size)]


def _bar(items, desc: str, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, disable=not progress, leave=False, unit="batch")


def _setup(model, config: TrainConfig, n: int, out_dir: Path, keys, resume: bool):
    """Optimiser, schedule, generator and an empty history, or all restored from the checkpoint."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.to(config.device)
    optimizer = make_optimizer(model.parameters(), config)
    steps = max(1, -(-n // config.batch_size))
    scheduler = make_scheduler(optimizer, config, steps)
    generator = torch.Generator().manual_seed(config.seed)
    history: dict[str, list[float]] = {k: [] for k in keys}
    start = 1
    if resume:
        state = load_checkpoint(
            out_dir / "checkpoint.pt", model, optimizer, scheduler, generator, config.device
        )
        history, start = state["history"], state["epoch"] + 1
    return out_dir, optimizer, scheduler, generator, history, start


@torch.no_grad()
def predict_last(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The model's last-step outputs ``(N, out)`` for windows ``x`` ``(N, T, d)``."""
    model.eval()
    return torch.cat([model(x[i : i + batch_size])[:, -1] for i in range(0, len(x), batch_size)])


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
    x_train, y_train = train
    x_test, y_test = test
    out_dir, optimizer, scheduler, generator, history, start = _setup(
        model, config, len(x_train), out_dir, ("train_loss", "test_mse", "lr", "seconds"), resume
    )
    loss_fn = nn.MSELoss()
    for epoch in range(start, config.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        total = 0.0
        for idx in _bar(_batches(len(x_train), config.batch_size, generator), f"epoch {epoch}", progress):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[idx])[:, -1], y_train[idx])
            total += update(model, loss, optimizer, scheduler, config.grad_clip) * len(idx)
        history["seconds"].append(time.perf_counter() - t0)
        history["train_loss"].append(total / len(x_train))
        history["test_mse"].append(float(loss_fn(predict_last(model, x_test), y_test)))
        history["lr"].append(optimizer.param_groups[0]["lr"])
        save_checkpoint(
            out_dir / "checkpoint.pt", model, optimizer, scheduler, generator, history=history, epoch=epoch
        )
    save_torch(out_dir / "model.pt", model.state_dict())
    pred_train, pred_test = predict_last(model, x_train), predict_last(model, x_test)
    metrics = {
        **(extra or {}),
        **count_parameters(model),
        "test_mse": float(nn.functional.mse_loss(pred_test, y_test)),
        "train_mse": float(nn.functional.mse_loss(pred_train, y_train)),
        "epochs": len(history["train_loss"]),
        "seconds_per_epoch": sum(history["seconds"]) / max(len(history["seconds"]), 1),
        "n_train": len(x_train),
        "n_test": len(x_test),
        "history": history,
        "config": config.to_dict(),
    }
    from .plots import plot_losses, plot_series

    plot_losses(
        {"train MSE": history["train_loss"], "test MSE": history["test_mse"]},
        out_dir / "curves.png",
        title,
        log=True,
    )
    plot_series(
        torch.cat([y_train, y_test]),
        torch.cat([pred_train, pred_test]),
        len(y_train),
        out_dir / "prediction.png",
        title,
    )
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def _qrnn_eval(model, data, batch_size: int, generator: torch.Generator) -> dict[str, float]:
    """Sampled accuracy on the scored steps (postselecting only the unscored ones, as Bausch's
    validation does), argmax accuracy and loss; ``data`` is ``(inputs, targets, mask)``."""
    from qml.qrnn import _bits_to_int, qrnn_loss

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


def fit_qrnn(
    model,
    train: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    config: TrainConfig,
    *,
    out_dir: Path,
    title: str = "",
    progress: bool = True,
    resume: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Teacher-forced QRNN training (postselect every step on its target), Bausch's loss on the
    scored steps (``mask``); tracks the postselection (success) probabilities."""
    from qml.qrnn import qrnn_loss

    inputs, targets, mask = train
    keys = (
        "train_loss",
        "test_loss",
        "test_accuracy",
        "test_argmax_accuracy",
        "min_postselection_prob",
        "mean_postselection_prob",
        "seconds",
    )
    out_dir, optimizer, scheduler, generator, history, start = _setup(
        model, config, len(inputs), out_dir, keys, resume
    )
    for epoch in range(start, config.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        total, p_min, p_sum, p_n = 0.0, 1.0, 0.0, 0
        for idx in _bar(_batches(len(inputs), config.batch_size, generator), f"epoch {epoch}", progress):
            optimizer.zero_grad(set_to_none=True)
            out = model(inputs[idx], targets[idx], True)
            loss = qrnn_loss(out.probs, targets[idx], mask[idx])
            total += update(model, loss, optimizer, scheduler, config.grad_clip) * len(idx)
            ps = out.postselection_probs.detach()
            p_min = min(p_min, float(ps.min()))
            p_sum += float(ps.sum())
            p_n += ps.numel()
        history["seconds"].append(time.perf_counter() - t0)
        history["train_loss"].append(total / len(inputs))
        history["min_postselection_prob"].append(p_min)
        history["mean_postselection_prob"].append(p_sum / max(p_n, 1))
        ev = _qrnn_eval(model, test, config.eval_batch_size, generator)
        history["test_loss"].append(ev["loss"])
        history["test_accuracy"].append(ev["accuracy"])
        history["test_argmax_accuracy"].append(ev["argmax_accuracy"])
        if progress:
            from tqdm.auto import tqdm

            tqdm.write(
                f"epoch {epoch}: loss {history['train_loss'][-1]:.4f} | test accuracy {ev['accuracy']:.4f} "
                f"| min postselection p {p_min:.3g}"
            )
        save_checkpoint(
            out_dir / "checkpoint.pt", model, optimizer, scheduler, generator, history=history, epoch=epoch
        )
    save_torch(out_dir / "model.pt", model.state_dict())
    metrics = {
        **(extra or {}),
        **count_parameters(model),
        "test_accuracy": history["test_accuracy"][-1],
        "test_argmax_accuracy": history["test_argmax_accuracy"][-1],
        "test_error_rate": 1 - history["test_accuracy"][-1],
        "test_loss": history["test_loss"][-1],
        "epochs": len(history["train_loss"]),
        "seconds_per_epoch": sum(history["seconds"]) / max(len(history["seconds"]), 1),
        "n_train": len(inputs),
        "n_test": len(test[0]),
        "history": history,
        "config": config.to_dict(),
    }
    from .plots import plot_losses

    plot_losses(
        {"train loss": history["train_loss"], "test loss": history["test_loss"]},
        out_dir / "curves.png",
        title,
    )
    plot_losses(
        {"min": history["min_postselection_prob"], "mean": history["mean_postselection_prob"]},
        out_dir / "postselection.png",
        f"{title}: postselection (success) probability",
        log=True,
        ylabel="probability",
    )
    write_json(out_dir / "metrics.json", metrics)
    return metrics
