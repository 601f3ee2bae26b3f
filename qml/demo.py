"""The offline demo: ``ketml train hybrid-digits --dataset digits`` with the demo's settings.

``run()`` trains :class:`qml.vision.HybridDigitsClassifier` (a small CNN, a variational circuit
as bottleneck, a linear head) on scikit-learn's bundled 8 x 8 digits (1797 images, 10 classes, no
download) with its ``digits`` preset: 80/20 % train/test split, 1/8 of the training part held out
for validation (70/10/20 % in all), Adam with a cosine learning-rate decay. It goes through the
shared trainer (:func:`qml.training.experiment.train`), so the run folder ``<out>/demo-<time>/``
holds what every ``ketml train`` run holds: ``run.json``, ``model.pt``, ``metrics.json``,
``curves.png`` and ``confusion.png``. Everything is seeded (weights, batch order).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from circuits.errors import ConfigurationError

__all__ = ["DEFAULTS", "MODEL", "QUICK", "run"]

#: the registered model the demo trains, and its dataset
MODEL, DATASET = "hybrid-digits", "digits"
#: Settings of the default demo (the model's digits preset); ``run()`` arguments left as ``None`` take these.
DEFAULTS: dict[str, Any] = {"epochs": 30, "qubits": 6, "layers": 4, "batch_size": 32, "lr": 0.01, "seed": 0}
#: Settings of ``quick=True``: a few epochs on a small stratified subset (tests, smoke runs).
QUICK: dict[str, Any] = {"epochs": 6, "subset": 400}


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
    """Train the hybrid digits classifier; write the run folder; return its metrics.

    Args:
        epochs: passes over the training set (default 30; 6 with ``quick``).
        qubits: circuit width, 4 to 8 (default 6).
        seed: seeds the initial weights, the validation split and the batch order (default 0).
        out: parent folder of the run folder ``demo-<timestamp>``.
        engine: circuit engine of the ``QuantumLayer`` ("torch", "auto", ...).
        quick: 6 epochs on 400 training images, to check the pipeline in seconds.
        layers: strongly entangling layers (default 4).
        batch_size, lr: Adam mini-batch size (default 32) and learning rate (default 0.01).
        device: torch device of the model (default "cuda" for engine "auto" when a GPU is
            visible, else "cpu").
        num_threads: torch CPU threads while training (restored afterwards); ``None`` keeps
            torch's setting. The default 1 is fastest here: the model's tensors are tiny.
        progress: show a progress bar per epoch.
        verbose: print the test accuracy and the run folder.

    Returns:
        The metrics written to ``metrics.json`` plus ``run_dir`` (the folder written).
    """
    from qml.training.experiment import train

    epochs = epochs if epochs is not None else (QUICK["epochs"] if quick else DEFAULTS["epochs"])
    qubits = qubits if qubits is not None else DEFAULTS["qubits"]
    layers = layers if layers is not None else DEFAULTS["layers"]
    seed = seed if seed is not None else DEFAULTS["seed"]
    for name, value, low, high in (
        ("epochs", epochs, 1, None),
        ("qubits", qubits, 4, 8),
        ("layers", layers, 1, None),
        ("batch_size", batch_size if batch_size is not None else 1, 1, None),
    ):
        if not isinstance(value, int) or value < low or (high is not None and value > high):
            limit = f"between {low} and {high}" if high is not None else f">= {low}"
            raise ConfigurationError(f"{name} must be an integer {limit}; got {value!r}")
    if device is None:
        device = "cuda" if engine == "auto" and torch.cuda.is_available() else "cpu"
    previous_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        run_dir, metrics = train(
            MODEL,
            DATASET,
            out=Path(out),
            engine=engine,
            subset=QUICK["subset"] if quick else None,
            seed=seed,
            progress=progress,
            model_options={"n_qubits": qubits, "n_layers": layers},
            run_name="demo",
            extra={"quick": quick, "torch_threads": torch.get_num_threads()},
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            device=device,
        )
    finally:
        torch.set_num_threads(previous_threads)
    metrics["run_dir"] = str(run_dir)
    if verbose:
        print(
            f"test accuracy {metrics['test_accuracy']:.4f} ({metrics['n_test']} images), "
            f"{metrics['n_parameters']} parameters, {metrics['seconds_per_epoch']:.1f} s per epoch; "
            f"wrote {run_dir}"
        )
    return metrics
