"""Step-based QRNN training as in Bausch's MNIST runs, checkpointed so a run survives interruption.

Bausch trains by *steps*, not epochs: each step draws ``batch_per_class`` random sequences of
every class (with replacement), teacher-forces them, and takes one AdamW step on the loss of the
scored (label) steps, gradient norm clipped at 0.5. This loop does the same, scores a fixed
validation subset every ``eval_every`` steps, keeps the best-validation weights, and writes a
checkpoint (the shared trainer's format, :mod:`qml.training.checkpoint`) every
``checkpoint_every`` steps; ``train_steps`` on a folder with a checkpoint continues from it and
ends where an uninterrupted run does (same batches, same weights).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from qml.training.checkpoint import load_checkpoint, save_checkpoint
from qml.training.config import TrainConfig
from qml.training.optim import make_optimizer
from qml.training.runs import save_torch, write_json

from .qrnn import QRNN, _bits_to_int, qrnn_loss

__all__ = ["Labelled", "StepConfig", "evaluate", "train_steps"]

#: ``(inputs, targets, mask, labels)`` as returned by :func:`data.mnist_pixels.qrnn_mnist_pixels`
Labelled = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass
class StepConfig:
    """Bausch's MNIST settings (``experiment-3-mnist-2digit.sh``) plus this loop's bookkeeping."""

    lr: float = 0.01
    steps: int = 5000
    batch_per_class: int = 50
    grad_clip: float = 0.5
    weight_decay: float = 0.01  # torch's AdamW default, which Bausch's code used
    seed: int = 0
    eval_every: int = 25
    eval_size: int = 200
    checkpoint_every: int = 5


@torch.no_grad()
def evaluate(model: QRNN, data: Labelled, seed: int = 0, batch_size: int = 250) -> dict[str, float]:
    """Accuracy on the scored steps: sampled (postselecting the unscored steps on their targets,
    as Bausch's validation does) and argmax of ``p(y)``; mean loss."""
    inputs, targets, mask, _ = data
    g = torch.Generator().manual_seed(seed)
    correct = argmax = total = 0
    loss = 0.0
    for i in range(0, len(inputs), batch_size):
        x, y, m = inputs[i : i + batch_size], targets[i : i + batch_size], mask[i : i + batch_size]
        out = model(x, y, ~m, generator=g)
        loss += float(qrnn_loss(out.probs, y, m)) * len(x)
        correct += int((out.measured == y).all(-1)[m].sum())
        argmax += int((out.probs.argmax(-1) == _bits_to_int(y))[m].sum())
        total += int(m.sum())
    return {"accuracy": correct / total, "argmax_accuracy": argmax / total, "loss": loss / len(inputs)}


def _batch(labels: torch.Tensor, per_class: int, generator: torch.Generator) -> torch.Tensor:
    """``per_class`` random indices of every class, with replacement (Bausch's ``next_batch``)."""
    picks = []
    for k in labels.unique().tolist():
        members = torch.nonzero(labels == k).squeeze(1)
        picks.append(members[torch.randint(0, len(members), (per_class,), generator=generator)])
    return torch.cat(picks)


def train_steps(
    model: QRNN,
    train: Labelled,
    validate: Labelled,
    config: StepConfig,
    out_dir: Path,
    *,
    stop_after: int | None = None,
    deadline: float | None = None,
    log: Callable[[str], None] | None = print,
) -> dict:
    """Train ``model`` to ``config.steps`` (continuing from ``out_dir/checkpoint.pt`` if there);
    ``stop_after`` steps or the wall-clock ``deadline`` (``time.time()``) end this call early,
    checkpointed. Returns the history (also in ``out_dir/history.json``); ``out_dir/best.pt`` holds
    the best-validation weights."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt = out_dir / "checkpoint.pt"
    optimizer = make_optimizer(
        model.parameters(), TrainConfig(optimizer="adamw", lr=config.lr, weight_decay=config.weight_decay)
    )
    generator = torch.Generator().manual_seed(config.seed)
    history: dict[str, list] = {"step": [], "loss": [], "grad_norm": [], "min_postselection_prob": []}
    history.update(batch_accuracy=[], seconds=[], eval_step=[], val_accuracy=[], val_argmax_accuracy=[])
    history["val_loss"] = []
    step, best = 0, -1.0
    if ckpt.is_file():
        state = load_checkpoint(ckpt, model, optimizer, None, generator)
        step, history, best = state["epoch"], state["history"], state["best"]
    inputs, targets, mask, labels = train
    val = tuple(t[: config.eval_size] for t in validate)
    done = 0

    def save() -> None:
        save_checkpoint(ckpt, model, optimizer, None, generator, history=history, epoch=step, best=best)
        write_json(out_dir / "history.json", {"config": asdict(config), **history})

    while step < config.steps:
        if (stop_after is not None and done >= stop_after) or (
            deadline is not None and time.time() > deadline
        ):
            break
        t0 = time.perf_counter()
        idx = _batch(labels, config.batch_per_class, generator)
        model.train()
        optimizer.zero_grad(set_to_none=True)
        out = model(inputs[idx], targets[idx], True)
        loss = qrnn_loss(out.probs, targets[idx], mask[idx])
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        step, done = step + 1, done + 1
        hit = (out.probs.detach().argmax(-1) == _bits_to_int(targets[idx]))[mask[idx]]
        history["step"].append(step)
        history["loss"].append(float(loss.detach()))
        history["grad_norm"].append(float(norm))
        history["min_postselection_prob"].append(out.min_postselection_prob)
        history["batch_accuracy"].append(float(hit.double().mean()))
        history["seconds"].append(time.perf_counter() - t0)
        if step % config.eval_every == 0 or step == config.steps:
            ev = evaluate(model, val, seed=config.seed + step)
            history["eval_step"].append(step)
            history["val_accuracy"].append(ev["accuracy"])
            history["val_argmax_accuracy"].append(ev["argmax_accuracy"])
            history["val_loss"].append(ev["loss"])
            if ev["argmax_accuracy"] > best:
                best = ev["argmax_accuracy"]
                save_torch(out_dir / "best.pt", model.state_dict())
            if log:
                log(
                    f"step {step}: loss {history['loss'][-1]:.4f} | grad norm {norm:.3g} | "
                    f"val accuracy {ev['accuracy']:.3f} (argmax {ev['argmax_accuracy']:.3f}) | "
                    f"{history['seconds'][-1]:.2f} s/step"
                )
        if step % config.checkpoint_every == 0:
            save()
    save()
    return history
