"""``fit``: the training loop shared by every classifier ``ketml train`` knows.

Mini-batches are drawn from in-memory tensors with a seeded generator (reproducible with the
same seed, torch version and machine); each epoch validates, the best weights (by validation
accuracy) are kept, early stopping is optional, and a checkpoint after every epoch lets a run
resume. At the end the best weights are tested and ``metrics.json`` plus PNG plots are written.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .augment import random_affine
from .config import TrainConfig
from .evaluation import evaluate_classifier
from .optim import make_optimizer, make_scheduler, update
from .plots import plot_confusion, plot_curves
from .runs import save_torch, write_json

Tensors = tuple[torch.Tensor, torch.Tensor]


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


def _epoch(model, x, y, config, optimizer, scheduler, generator, progress, desc):
    model.train()
    n = len(x)
    order = torch.randperm(n, generator=generator)
    total_loss, correct, seen = 0.0, 0, 0
    from tqdm.auto import tqdm

    starts = [i for i in range(0, n, config.batch_size) if min(config.batch_size, n - i) > 1]
    bar = tqdm(starts, desc=desc, disable=not progress, leave=False, unit="batch")
    for i in bar:
        idx = order[i : i + config.batch_size]
        xb = x[idx]
        if config.augment == "affine":
            xb = random_affine(xb, generator=generator)
        xb, yb = xb.to(config.device), y[idx].to(config.device)
        optimizer.zero_grad(set_to_none=True)
        logits = model(xb)
        loss = F.cross_entropy(logits, yb, label_smoothing=config.label_smoothing)
        total_loss += update(model, loss, optimizer, scheduler, config.grad_clip) * len(idx)
        correct += int((logits.detach().argmax(1) == yb).sum())
        seen += len(idx)
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}")
    return total_loss / max(seen, 1), correct / max(seen, 1)


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
    """Train ``model`` on ``train`` (images in [0, 1], integer labels); returns the metrics dict
    also written to ``out_dir/metrics.json``. ``resume`` continues from ``out_dir/checkpoint.pt``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = config.device
    model.to(device)
    x_train, y_train = train
    if len(x_train) < 2:
        raise ValueError(f"need at least 2 training samples; got {len(x_train)}")
    steps = max(1, sum(1 for i in range(0, len(x_train), config.batch_size) if len(x_train) - i > 1))
    optimizer = make_optimizer(model.parameters(), config)
    scheduler = make_scheduler(optimizer, config, steps)
    generator = torch.Generator().manual_seed(config.seed)
    history: dict[str, list[float]] = {
        k: [] for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")
    }
    best = {"accuracy": -math.inf, "epoch": 0}
    start_epoch, stopped_early = 1, False
    ckpt_path = out_dir / "checkpoint.pt"
    if resume:
        if not ckpt_path.is_file():
            raise FileNotFoundError(f"cannot resume: {ckpt_path} does not exist")
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        if scheduler is not None and ckpt.get("scheduler") is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
        generator.set_state(ckpt["generator"])
        history, best, start_epoch = ckpt["history"], ckpt["best"], ckpt["epoch"] + 1
    since_best = len(history["train_loss"]) - best["epoch"]
    for epoch in range(start_epoch, config.epochs + 1):
        t0 = time.perf_counter()
        loss, acc = _epoch(
            model,
            x_train,
            y_train,
            config,
            optimizer,
            scheduler,
            generator,
            progress,
            f"epoch {epoch}/{config.epochs}",
        )
        seconds = time.perf_counter() - t0
        if val is not None and len(val[0]):
            v = evaluate_classifier(model, *val, n_classes, batch_size=config.eval_batch_size, device=device)
            score, v_loss, v_acc = v["accuracy"], v["loss"], v["accuracy"]
        else:
            score, v_loss, v_acc = acc, float("nan"), float("nan")
        for key, value in (
            ("train_loss", loss),
            ("train_accuracy", acc),
            ("val_loss", v_loss),
            ("val_accuracy", v_acc),
            ("lr", optimizer.param_groups[0]["lr"]),
            ("seconds", seconds),
        ):
            history[key].append(value)
        if progress:
            from tqdm.auto import tqdm

            tqdm.write(
                f"epoch {epoch}: loss {loss:.4f} acc {acc:.4f} | val loss {v_loss:.4f} "
                f"acc {v_acc:.4f} | {seconds:.1f} s"
            )
        if score > best["accuracy"]:
            best = {"accuracy": score, "epoch": epoch}
            save_torch(out_dir / "model.pt", model.state_dict())
            since_best = 0
        else:
            since_best += 1
        save_torch(
            ckpt_path,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "generator": generator.get_state(),
                "history": history,
                "best": best,
                "epoch": epoch,
            },
        )
        if config.patience and since_best >= config.patience:
            stopped_early = True
            break
    if (out_dir / "model.pt").is_file():
        model.load_state_dict(torch.load(out_dir / "model.pt", map_location=device, weights_only=True))
    metrics: dict[str, Any] = {
        **(extra or {}),
        **count_parameters(model),
        "epochs": len(history["train_loss"]),
        "best_epoch": best["epoch"],
        "stopped_early": stopped_early,
        "seconds_per_epoch": sum(history["seconds"]) / max(len(history["seconds"]), 1),
        "samples_per_second": len(x_train) * len(history["seconds"]) / max(sum(history["seconds"]), 1e-9),
        "n_train": len(x_train),
        "n_val": 0 if val is None else len(val[0]),
        "best_val_accuracy": None if val is None or not len(val[0]) else best["accuracy"],
        "history": history,
        "config": config.to_dict(),
    }
    plot_curves(history, out_dir / "curves.png", title)
    if test is not None and len(test[0]):
        t = evaluate_classifier(model, *test, n_classes, batch_size=config.eval_batch_size, device=device)
        metrics.update(
            test_accuracy=t["accuracy"], test_loss=t["loss"], n_test=len(test[0]), confusion=t["confusion"]
        )
        names = list(classes) if classes is not None else [str(i) for i in range(n_classes)]
        plot_confusion(t["confusion"], names, out_dir / "confusion.png", f"{title} (test)")
    write_json(out_dir / "metrics.json", metrics)
    return metrics
