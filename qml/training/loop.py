"""``train_loop``: the one epoch loop every gradient-trained model goes through, with hooks.

The loop owns what every run shares: seeded mini-batches, the optimiser and schedule from the
:class:`~.config.TrainConfig`, a checkpoint after every epoch (``resume=True`` continues from it),
a progress bar, the best weights (when the hooks score epochs), early stopping, ``metrics.json``.
A :class:`Hooks` object supplies what differs between kinds of training: the loss of a batch, what
is measured after each epoch, the final metrics and the plots.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from circuits.errors import ConfigurationError

from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .optim import TrainingInterrupted, check_extension, make_optimizer, make_scheduler, update
from .runs import load_torch, save_torch, write_json


def count_parameters(model: nn.Module) -> dict[str, int]:
    """Trainable parameters: total, and those inside quantum layers (modules of ``circuits.layers``)."""
    from circuits.layers import ParallelQuantumLayer, QuantumLayer

    quantum = {
        id(p)
        for m in model.modules()
        if isinstance(m, (QuantumLayer, ParallelQuantumLayer))
        for p in m.parameters()
        if p.requires_grad
    }
    params = [p for p in model.parameters() if p.requires_grad]
    n_q = sum(p.numel() for p in params if id(p) in quantum)
    total = sum(p.numel() for p in params)
    return {"n_parameters": total, "n_quantum_parameters": n_q, "n_classical_parameters": total - n_q}


class Hooks:
    """What one kind of training adds to :func:`train_loop`. Subclasses set ``n_train`` and
    implement :meth:`batch_loss`; the other hooks have neutral defaults."""

    n_train: int = 0
    #: drop a last batch of one sample (batch norm cannot train on it)
    skip_single: bool = False
    #: keep the weights of the best-scoring epoch (see :meth:`score`), with early stopping
    keep_best: bool = False

    def begin_epoch(self) -> None:
        """Reset per-epoch counters."""

    def batch_loss(self, model: nn.Module, idx: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The loss of the training samples ``idx`` (forward pass in training mode)."""
        raise NotImplementedError

    def lengths(self) -> torch.Tensor | None:
        """Each training sample's sequence length, for ``batching="by-length"`` (``None``: the
        samples have no length to batch by)."""
        return None

    def postfix(self) -> dict[str, str]:
        """Extra fields of the progress bar."""
        return {}

    def end_epoch(self, model: nn.Module, generator: torch.Generator) -> dict[str, float]:
        """History entries of the epoch just trained (e.g. validation scores)."""
        return {}

    def score(self, record: dict[str, float]) -> float:
        """Higher is better; used when ``keep_best``."""
        return -record["train_loss"]

    def message(self, epoch: int, record: dict[str, float]) -> str | None:
        """A line printed after each epoch (with progress on), or ``None``."""
        return None

    def finish(self, model: nn.Module, history: dict[str, list[float]], out_dir: Path, title: str) -> dict:
        """Final metrics (tests, predictions) and plots, with the kept weights loaded."""
        return {}


def _starts(n: int, batch_size: int, skip_single: bool) -> list[int]:
    return [i for i in range(0, n, batch_size) if not (skip_single and min(batch_size, n - i) < 2)]


#: batches per window that ``batching="by-length"`` sorts (as transformers' length-grouped sampler)
LENGTH_WINDOW = 50


def length_windows(order: torch.Tensor, lengths: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """``order`` cut into windows of :data:`LENGTH_WINDOW` batches, each sorted by ``lengths``,
    longest first."""
    window = LENGTH_WINDOW * batch_size
    chunks = order.split(window)
    return [c[torch.sort(lengths[c], descending=True, stable=True).indices] for c in chunks]


def epoch_order(hooks: Hooks, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """The epoch's sample order: a seeded permutation; with ``by-length`` batching, each window of
    :data:`LENGTH_WINDOW` batches of it sorted by length and cut into batches, so that a batch's
    rows are of about one length (little padding), and those batches shuffled, so that the steps
    do not sweep from long to short rows (a length is often one problem and size)."""
    order = torch.randperm(hooks.n_train, generator=generator)
    if config.batching == "random":
        return order
    size, out = config.batch_size, []
    for window in length_windows(order, hooks.lengths(), size):
        batches = window.split(size)
        full = len(window) // size  # a last, partial batch stays last: the loop cuts at multiples of size
        out += [batches[j] for j in torch.randperm(full, generator=generator)] + list(batches[full:])
    return torch.cat(out) if out else order


def _planned(scheduler, steps_per_epoch: int) -> int | None:
    """The epochs a loaded schedule was planned for (checkpoints that did not record them)."""
    if scheduler is None:
        return None
    total = getattr(scheduler, "T_max", None) or getattr(scheduler, "total_steps", None)
    return None if not total else max(1, round(total / steps_per_epoch))


def _epoch(model, hooks, config, epoch, starts, optimizer, scheduler, generator, history, progress) -> dict:
    """Train one epoch; its record (loss, the hooks' measures, lr, seconds) is appended to
    ``history`` and returned."""
    from tqdm.auto import tqdm

    model.train()
    hooks.begin_epoch()
    t0 = time.perf_counter()
    order = epoch_order(hooks, config, generator)
    total, seen = 0.0, 0
    bar = tqdm(starts, desc=f"epoch {epoch}/{config.epochs}", disable=not progress, leave=False, unit="batch")
    for i in bar:
        idx = order[i : i + config.batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = hooks.batch_loss(model, idx, generator)
        total += update(model, loss, optimizer, scheduler, config.grad_clip) * len(idx)
        seen += len(idx)
        bar.set_postfix(loss=f"{total / seen:.4f}", **hooks.postfix())
    seconds = time.perf_counter() - t0
    record = {"train_loss": total / max(seen, 1), **hooks.end_epoch(model, generator)}
    record.update(lr=optimizer.param_groups[0]["lr"], seconds=seconds)
    for key, value in record.items():
        history.setdefault(key, []).append(value)
    line = hooks.message(epoch, record)
    if progress and line:
        tqdm.write(line)
    return record


def train_loop(
    model: nn.Module,
    hooks: Hooks,
    config: TrainConfig,
    *,
    out_dir: Path,
    title: str = "",
    progress: bool = True,
    resume: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``model`` for ``config.epochs``; returns the metrics also written to
    ``out_dir/metrics.json``. ``out_dir`` receives ``model.pt``, ``checkpoint.pt`` and the plots.
    Ctrl-C raises :class:`~.optim.TrainingInterrupted` saying how to resume (``checkpoint.pt``
    holds the last finished epoch, epoch 0 before the first one)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.to(config.device)
    n = hooks.n_train
    if config.batching != "random" and hooks.lengths() is None:
        raise ConfigurationError(
            f"batching={config.batching!r} needs samples with lengths (sequences); this task's have none"
        )
    starts = _starts(n, config.batch_size, hooks.skip_single)
    optimizer = make_optimizer(model.parameters(), config)
    scheduler = make_scheduler(optimizer, config, max(1, len(starts)))
    generator = torch.Generator().manual_seed(config.seed)
    history: dict[str, list[float]] = {}
    best = {"score": -math.inf, "epoch": 0}
    start, stopped_early = 1, False
    ckpt_path = out_dir / "checkpoint.pt"
    if resume:
        state = load_checkpoint(ckpt_path, model, optimizer, scheduler, generator, config.device)
        check_extension(config, state.get("planned_epochs", _planned(scheduler, len(starts))))
        history, start = state["history"], state["epoch"] + 1
        saved_best = state.get("best") or {}
        best = {
            "score": saved_best.get("score", saved_best.get("accuracy", -math.inf)),
            "epoch": saved_best.get("epoch", 0),
        }
    else:  # epoch 0: a run stopped in its first epoch can be resumed too
        save_checkpoint(
            ckpt_path,
            model,
            optimizer,
            scheduler,
            generator,
            history=history,
            best=best,
            epoch=0,
            planned_epochs=config.epochs,
        )
    since_best = len(history.get("train_loss", [])) - best["epoch"]
    epoch = start
    try:
        for epoch in range(start, config.epochs + 1):
            record = _epoch(
                model, hooks, config, epoch, starts, optimizer, scheduler, generator, history, progress
            )
            if hooks.keep_best:
                score = hooks.score(record)
                if score > best["score"]:
                    best = {"score": score, "epoch": epoch}
                    save_torch(out_dir / "model.pt", model.state_dict())
                    since_best = 0
                else:
                    since_best += 1
            save_checkpoint(
                ckpt_path,
                model,
                optimizer,
                scheduler,
                generator,
                history=history,
                best=best,
                epoch=epoch,
                planned_epochs=config.epochs,
            )
            if hooks.keep_best and config.patience and since_best >= config.patience:
                stopped_early = True
                break
    except KeyboardInterrupt:
        raise TrainingInterrupted(
            f"training stopped during epoch {epoch}; {ckpt_path} holds epoch {epoch - 1}: "
            f"continue with 'ketml train --resume {out_dir}'"
        ) from None
    if hooks.keep_best and (out_dir / "model.pt").is_file():
        model.load_state_dict(load_torch(out_dir / "model.pt", config.device))
    else:
        save_torch(out_dir / "model.pt", model.state_dict())
    seconds = history.get("seconds", [])
    metrics: dict[str, Any] = {
        **(extra or {}),
        **count_parameters(model),
        "epochs": len(history.get("train_loss", [])),
        "seconds_per_epoch": sum(seconds) / max(len(seconds), 1),
        "samples_per_second": n * len(seconds) / max(sum(seconds), 1e-9),
        "n_train": n,
    }
    if hooks.keep_best:
        metrics.update(best_epoch=best["epoch"], stopped_early=stopped_early)
    metrics.update(hooks.finish(model, history, out_dir, title))
    metrics.update(history=history, config=config.to_dict())
    write_json(out_dir / "metrics.json", metrics)
    return metrics
