"""Optimiser and learning-rate schedule for a :class:`TrainConfig` (schedules step per batch)."""

from __future__ import annotations

import math

import torch

from circuits.errors import ConfigurationError, KetmlError

from .config import TrainConfig


class TrainingDivergedError(KetmlError, FloatingPointError):
    """The training loss became NaN or infinite."""


class TrainingInterrupted(KetmlError):
    """Training was stopped (Ctrl-C); the message says how to continue from the last checkpoint."""

    exit_code = 130  # 128 + SIGINT, as shells report a Ctrl-C
    label = "interrupted"


#: schedules whose shape is planned for the run's length: a run using one cannot be extended
LENGTH_BOUND = ("cosine", "onecycle")


def length_bound(config: TrainConfig) -> bool:
    """Whether the run's learning-rate schedule is planned for exactly ``config.epochs`` epochs
    (cosine, one-cycle, and the step schedule without an explicit ``step_epochs``)."""
    if config.scheduler == "step":
        return "step_epochs" not in config.scheduler_options
    return config.scheduler in LENGTH_BOUND


def check_extension(config: TrainConfig, planned: int | None) -> None:
    """Refuse to resume a run planned for ``planned`` epochs with ``config.epochs`` epochs when its
    schedule is planned for its length: the schedule cannot continue exactly past (or stop
    before) its end, so resuming would silently train with another schedule."""
    if planned is None or planned == config.epochs or not length_bound(config):
        return
    how = "more" if config.epochs > planned else "fewer"
    raise ConfigurationError(
        f"cannot resume with {config.epochs} epochs: the run's {config.scheduler} learning-rate "
        f"schedule is planned for its {planned} epochs, and {how} epochs would change or restart it; "
        f"resume with --epochs {planned}, or train a new run with --epochs {config.epochs} (the "
        "schedules none, cosine-restarts and step with step_epochs can be extended)"
    )


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=config.lr, alpha=0.99, eps=1e-8, weight_decay=config.weight_decay
        )
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def make_scheduler(optimizer, config: TrainConfig, steps_per_epoch: int):
    """The schedule, stepped once per batch; ``None`` for a constant learning rate."""
    opts = dict(config.scheduler_options)
    total = config.epochs * steps_per_epoch
    if config.scheduler == "none":
        return None
    if config.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=total, eta_min=opts.get("eta_min", 0.0)
        )
    if config.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=opts.get("max_lr", config.lr * 2),
            total_steps=total,
            pct_start=opts.get("pct_start", 0.3),
        )
    if config.scheduler == "cosine-restarts":
        # T_0 is given in epochs, as in the paper's code that steps this schedule once per batch
        return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            optimizer,
            T_0=max(1, int(opts.get("T_0", 5)) * steps_per_epoch),
            eta_min=opts.get("eta_min", 1e-5),
        )
    step = max(1, int(opts.get("step_epochs", max(1, math.ceil(config.epochs / 3)))) * steps_per_epoch)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step, gamma=opts.get("gamma", 0.1))


def update(model, loss, optimizer, scheduler, grad_clip: float | None) -> float:
    """One optimisation step on ``loss`` (finite-checked, gradient-clipped, schedule stepped);
    returns the loss value. The optimiser's gradients must have been zeroed before the forward."""
    value = float(loss.detach())
    if not math.isfinite(value):
        raise TrainingDivergedError(f"training loss became {value} (lower the learning rate?)")
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return value
