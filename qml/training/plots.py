"""PNG plots of a run: learning curves and the confusion matrix.

Figures are built with :class:`matplotlib.figure.Figure`, not pyplot, so writing a run's plots
neither changes the global backend (a notebook keeps its inline plots) nor leaks open figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure


def plot_curves(history: dict[str, list[float]], path: Path, title: str = "") -> Path:
    """Loss (left) and accuracy (right) per epoch for train and validation."""
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    epochs = range(1, len(history.get("train_loss", [])) + 1)
    for ax, key, label in ((axes[0], "loss", "loss"), (axes[1], "accuracy", "accuracy")):
        for split, style in (("train", "-o"), ("val", "--s")):
            values = history.get(f"{split}_{key}", [])
            if values and any(v == v for v in values):  # skip all-NaN series
                ax.plot(list(epochs)[: len(values)], values, style, label=split, markersize=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def plot_confusion(
    confusion: Sequence[Sequence[int]], classes: Sequence[str], path: Path, title: str = ""
) -> Path:
    """Confusion matrix, rows = true class, columns = predicted class, counts written in cells."""
    import numpy as np

    cm = np.asarray(confusion)
    n = len(cm)
    size = min(4 + 0.45 * n, 16)
    fig = Figure(figsize=(size, size))
    ax = fig.subplots()
    ax.imshow(cm, cmap="Blues")
    if n <= 20:
        ticks = range(n)
        ax.set_xticks(ticks, [str(c) for c in classes][:n], rotation=45, ha="right")
        ax.set_yticks(ticks, [str(c) for c in classes][:n])
        high = cm.max() / 2 if cm.size else 0
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    str(cm[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if cm[i, j] > high else "black",
                )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def plot_losses(
    series: dict[str, list[float]], path: Path, title: str = "", *, log: bool = False, ylabel: str = "loss"
) -> Path:
    """Curves per epoch, one per entry of ``series``."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for label, values in series.items():
        ax.plot(range(1, len(values) + 1), values, "-o", markersize=3, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def plot_series(truth, prediction, split: int, path: Path, title: str = "") -> Path:
    """Ground truth and prediction over the whole series, a dashed line where the test part starts."""
    import numpy as np

    y = np.asarray(truth, dtype=float).reshape(len(truth), -1)[:, 0]
    p = np.asarray(prediction, dtype=float).reshape(len(prediction), -1)[:, 0]
    fig = Figure(figsize=(8, 3.5))
    ax = fig.subplots()
    ax.plot(y, "-", color="black", lw=1.5, label="ground truth")
    ax.plot(p, "--", color="tab:red", lw=1.2, label="prediction")
    ax.axvline(split, color="gray", ls=":", label="train | test")
    ax.set_xlabel("time step")
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
