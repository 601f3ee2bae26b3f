"""Federated run folders: the feasibility check before Flower starts, the central baseline on the
pooled data, and the plots and ``run.json`` written when a run ends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from qml.training.classification import fit
from qml.training.config import TrainConfig
from qml.training.runs import write_json

from .config import FedConfig
from .local import build_model
from .partition import label_histogram, partition
from .pool import load_pool

__all__ = ["check_feasible", "finish_run", "plot_rounds", "train_central"]


def check_feasible(cfg: FedConfig) -> None:
    """Raise before any process starts: unknown dataset, more clients than samples, bad spec."""
    pool = load_pool(cfg.dataset, seed=cfg.seed)
    partition(pool.y_train.numpy(), cfg.clients, cfg.partition, seed=cfg.seed)


def plot_rounds(
    series: dict[str, list[tuple[int, float]]], path: Path, title: str = "", central=None
) -> Path:
    """Global test accuracy per round, one curve per run; a dashed line at the central accuracy."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for label, points in series.items():
        ax.plot([p[0] for p in points], [p[1] for p in points], "-o", markersize=3, label=label)
    if central is not None:
        ax.axhline(central, ls="--", color="black", label=f"central {central:.3f}")
    ax.set_xlabel("round")
    ax.set_ylabel("global test accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def finish_run(out: Path, cfg: FedConfig, *, engine: str, seconds: float) -> dict[str, Any]:
    """Add the engine and wall time to ``metrics.json``, write ``run.json``, ``rounds.png`` and
    ``partition.png`` (the clients' label histogram)."""
    metrics = json.loads((out / "metrics.json").read_text())
    metrics.update(engine=engine, wall_seconds=seconds)
    write_json(out / "metrics.json", metrics)
    write_json(out / "run.json", {"kind": "federated", "engine": engine, "config": cfg.to_dict()})
    points = [(h["round"], h["test_accuracy"]) for h in metrics["history"]]
    plot_rounds(
        {f"{cfg.strategy}, {cfg.clients} clients, {cfg.partition}": points}, out / "rounds.png", cfg.dataset
    )
    pool = load_pool(cfg.dataset, seed=cfg.seed)
    parts = partition(pool.y_train.numpy(), cfg.clients, cfg.partition, seed=cfg.seed)
    hist = label_histogram(pool.y_train.numpy(), parts, pool.n_classes)
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    ax.imshow(hist.T, aspect="auto", cmap="Blues")
    ax.set_xlabel("client")
    ax.set_ylabel("class")
    ax.set_title(f"samples per class and client ({cfg.partition})")
    fig.tight_layout()
    fig.savefig(out / "partition.png", dpi=120)
    return metrics


def train_central(cfg: FedConfig, out: Path, *, progress: bool = False) -> dict[str, Any]:
    """The same model on the pooled training data, ``rounds * local_epochs`` epochs with the same
    optimiser and batch size (the shared trainer's classifier loop); returns its metrics."""
    pool = load_pool(cfg.dataset, seed=cfg.seed)
    model = build_model(cfg, pool.dims)
    config = TrainConfig(
        epochs=cfg.rounds * cfg.local_epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        seed=cfg.seed,
        val_fraction=0.0,
    )
    return fit(
        model,
        (pool.x_train, pool.y_train),
        None,
        (pool.x_test, pool.y_test),
        config,
        out_dir=Path(out),
        n_classes=pool.n_classes,
        title=f"central vqc on {cfg.dataset}",
        progress=progress,
    )
