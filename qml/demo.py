"""The offline demo: a hybrid CNN + quantum-circuit classifier on scikit-learn's digits.

``run()`` trains, on scikit-learn's bundled 8x8 digits (1797 images, 10 classes, no download),

    conv(1->16) -> conv(16->32) -> max-pool -> linear -> batch norm -> n_qubits angles
      -> QuantumLayer(RY angle encoding + strongly entangling layers, <Z> on every qubit)
      -> linear head -> 10 logits

(70/10/20 % train/validation/test split, stratified) with Adam and a cosine learning-rate
decay, and writes ``metrics.json`` and ``training_curve.png`` into a fresh
``<out>/demo-<timestamp>/`` folder. The whole pipeline is seeded (data split, weights, batch
order), so a seed reproduces a run on the same machine and torch version.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["DEFAULTS", "HybridDigitsClassifier", "load_data", "run"]

#: Settings of the default demo; ``run()`` arguments left as ``None`` take these.
DEFAULTS: dict[str, Any] = {
    "epochs": 30,
    "qubits": 6,
    "layers": 4,
    "batch_size": 32,
    "lr": 0.01,
    "seed": 0,
}
#: Settings of ``quick=True``: a few epochs on a small stratified subset (tests, smoke runs).
QUICK: dict[str, Any] = {"epochs": 6, "n_samples": 500}

TEST_FRACTION = 0.2
VAL_FRACTION = 0.1  # of the whole set, taken from the training part


class HybridDigitsClassifier(nn.Module):
    """Small CNN front end, a variational quantum circuit as bottleneck, a linear head."""

    def __init__(
        self,
        n_qubits: int = 6,
        n_layers: int = 4,
        n_classes: int = 10,
        *,
        engine: str = "torch",
        **engine_options: Any,
    ):
        super().__init__()
        from circuits import QuantumLayer
        from circuits.library import angle_encoding, strongly_entangling_layers

        self.front = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 32 x 4 x 4
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, n_qubits),
            nn.BatchNorm1d(n_qubits),  # angles of order 1 and spread out, whatever the seed
        )
        circuit = angle_encoding(n_qubits, "Y").compose(strongly_entangling_layers(n_qubits, n_layers))
        observables = ["I" * (n_qubits - 1 - q) + "Z" + "I" * q for q in range(n_qubits)]
        self.quantum = QuantumLayer(circuit, observables, engine=engine, **engine_options)
        self.head = nn.Linear(n_qubits, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.quantum(self.front(images)))


def load_data(seed: int, n_samples: int | None = None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Digits as ``(N, 1, 8, 8)`` float tensors in [0, 1], split stratified into train/val/test.

    ``n_samples`` keeps a stratified subset of that size first (for quick runs).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    if n_samples is not None and n_samples < len(labels):
        images, _, labels, _ = train_test_split(
            images, labels, train_size=n_samples, stratify=labels, random_state=seed
        )
    x_rest, x_test, y_rest, y_test = train_test_split(
        images, labels, test_size=TEST_FRACTION, stratify=labels, random_state=seed
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest,
        y_rest,
        test_size=VAL_FRACTION / (1 - TEST_FRACTION),
        stratify=y_rest,
        random_state=seed,
    )
    as_t = torch.from_numpy
    return {
        "train": (as_t(x_train), as_t(y_train)),
        "val": (as_t(x_val), as_t(y_val)),
        "test": (as_t(x_test), as_t(y_test)),
    }


@torch.no_grad()
def _evaluate(
    model: nn.Module, data: tuple[torch.Tensor, torch.Tensor], device: torch.device
) -> tuple[float, float]:
    model.eval()
    x, y = data
    logits = model(x.to(device))
    loss = nn.functional.cross_entropy(logits, y.to(device)).item()
    accuracy = (logits.argmax(dim=1).cpu() == y).float().mean().item()
    return loss, accuracy


def _run_dir(out: str | Path) -> Path:
    base = Path(out)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = base / f"demo-{stamp}"
    n = 1
    while path.exists():
        path = base / f"demo-{stamp}-{n}"
        n += 1
    path.mkdir(parents=True)
    return path


def _plot(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["train_loss"], "o-", label="train")
    ax_loss.plot(epochs, history["val_loss"], "s-", label="validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.plot(epochs, history["train_accuracy"], "o-", label="train")
    ax_acc.plot(epochs, history["val_accuracy"], "s-", label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.02))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("ketml demo: hybrid CNN + quantum classifier on digits")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(
    epochs: int | None = None,
    qubits: int | None = None,
    seed: int | None = None,
    out: str | Path = "runs",
    engine: str = "torch",
    quick: bool = False,
    *,
    layers: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    device: str | None = None,
    num_threads: int | None = 1,
    progress: bool = True,
    verbose: bool = True,
) -> dict[str, Any]:
    """Train the hybrid digits classifier; write metrics and a plot; return the metrics dict.

    Args:
        epochs: passes over the training set (default 30; 6 with ``quick``).
        qubits: circuit width, 4 to 8 (default 6).
        seed: seeds the split, the initial weights and the batch order (default 0).
        out: parent folder of the run folder ``demo-<timestamp>``.
        engine: circuit engine of the ``QuantumLayer`` ("torch", "auto", ...).
        quick: 6 epochs on a 500-image subset, to check the pipeline in seconds.
        layers: strongly entangling layers (default 4).
        batch_size, lr: Adam mini-batch size (default 32) and learning rate (default 0.01).
        device: torch device of the model (default "cuda" for engine "auto" when a GPU is
            visible, else "cpu").
        num_threads: torch CPU threads while training (restored afterwards); ``None`` keeps
            torch's setting. The default 1 is fastest here: the model's tensors are tiny, so
            more threads only add synchronisation, and they slow down badly when other
            processes compete for the cores.
        progress: show a tqdm bar per epoch.
        verbose: print a summary line per epoch and the test accuracy.

    Returns:
        The metrics written to ``metrics.json`` plus ``run_dir`` (the folder written).
    """
    epochs = epochs if epochs is not None else (QUICK["epochs"] if quick else DEFAULTS["epochs"])
    qubits = qubits if qubits is not None else DEFAULTS["qubits"]
    seed = seed if seed is not None else DEFAULTS["seed"]
    layers = layers if layers is not None else DEFAULTS["layers"]
    batch_size = batch_size if batch_size is not None else DEFAULTS["batch_size"]
    lr = lr if lr is not None else DEFAULTS["lr"]
    for name, value, low, high in (
        ("epochs", epochs, 1, None),
        ("qubits", qubits, 4, 8),
        ("layers", layers, 1, None),
        ("batch_size", batch_size, 1, None),
    ):
        if not isinstance(value, int) or value < low or (high is not None and value > high):
            limit = f"between {low} and {high}" if high is not None else f">= {low}"
            raise ValueError(f"{name} must be an integer {limit}; got {value!r}")
    if device is None:
        device = "cuda" if engine == "auto" and torch.cuda.is_available() else "cpu"
    dev = torch.device(device)

    previous_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        return _run(epochs, qubits, seed, out, engine, quick, layers, batch_size, lr, dev, progress, verbose)
    finally:
        torch.set_num_threads(previous_threads)


def _run(
    epochs: int,
    qubits: int,
    seed: int,
    out: str | Path,
    engine: str,
    quick: bool,
    layers: int,
    batch_size: int,
    lr: float,
    dev: torch.device,
    progress: bool,
    verbose: bool,
) -> dict[str, Any]:
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    np.random.seed(seed)
    data = load_data(seed, QUICK["n_samples"] if quick else None)
    x_train, y_train = data["train"]

    model = HybridDigitsClassifier(qubits, layers, engine=engine).to(dev)
    n_parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)

    history: dict[str, list[float]] = {
        "train_loss": [],
        "train_accuracy": [],
        "val_loss": [],
        "val_accuracy": [],
    }
    epoch_seconds: list[float] = []
    start = time.perf_counter()
    n_train = len(y_train)
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n_train, generator=generator)
        total_loss, correct = 0.0, 0
        bar = tqdm(
            range(0, n_train, batch_size),
            desc=f"epoch {epoch}/{epochs}",
            unit="batch",
            disable=not progress,
            leave=False,
        )
        for begin in bar:
            idx = order[begin : begin + batch_size]
            xb, yb = x_train[idx].to(dev), y_train[idx].to(dev)
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        bar.close()
        scheduler.step()
        val_loss, val_acc = _evaluate(model, data["val"], dev)
        history["train_loss"].append(total_loss / n_train)
        history["train_accuracy"].append(correct / n_train)
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_acc)
        epoch_seconds.append(time.perf_counter() - t0)
        if verbose:
            print(
                f"epoch {epoch:3d}/{epochs}  train loss {history['train_loss'][-1]:.4f} "
                f"acc {history['train_accuracy'][-1]:.3f}  val loss {val_loss:.4f} "
                f"acc {val_acc:.3f}  ({epoch_seconds[-1]:.1f} s)",
                flush=True,
            )
    train_seconds = time.perf_counter() - start
    test_loss, test_acc = _evaluate(model, data["test"], dev)

    run_dir = _run_dir(out)
    metrics: dict[str, Any] = {
        "test_accuracy": test_acc,
        "test_loss": test_loss,
        "n_parameters": n_parameters,
        "n_quantum_parameters": model.quantum.n_weights,
        "epochs": epochs,
        "seconds_per_epoch": train_seconds / epochs,
        "train_seconds": train_seconds,
        **history,
        "engine": engine,
        "device": str(dev),
        "seed": seed,
        "qubits": qubits,
        "layers": layers,
        "batch_size": batch_size,
        "lr": lr,
        "quick": quick,
        "dataset": "sklearn.datasets.load_digits (8x8, 10 classes)",
        "n_train": n_train,
        "n_val": len(data["val"][1]),
        "n_test": len(data["test"][1]),
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "timestamp": datetime.now().isoformat(timespec="seconds"),
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    _plot(history, run_dir / "training_curve.png")
    metrics["run_dir"] = str(run_dir)
    if verbose:
        print(
            f"test accuracy {test_acc:.4f} ({metrics['n_test']} images), "
            f"{n_parameters} parameters, {train_seconds:.1f} s training; wrote {run_dir}"
        )
    return metrics
