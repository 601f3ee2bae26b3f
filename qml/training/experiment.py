"""One training or evaluation job from names: what ``ketml train`` and ``ketml evaluate`` run.

``train_model("hqnn-parallel", "mnist", ...)`` loads the dataset, splits off a validation set,
builds the registered model (seeded), writes ``run.json`` into a fresh run folder and calls
:func:`qml.training.loop.fit`. ``evaluate_run(run_dir, attack=...)`` rebuilds the trained model
from its folder and measures clean and adversarial test accuracy.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch

from .. import registry
from .attacks import ATTACKS, robust_accuracy
from .config import TrainConfig
from .evaluation import evaluate_classifier
from .loop import fit
from .runs import new_run_dir, read_run, write_json


def load_split(dataset: str, split: str, root: str | None = None):
    """An image dataset split by name (digits are resized to 28 x 28 for the image models)."""
    from qml import datasets

    if dataset == "digits":
        return datasets.load_digits(split, size=28)
    return datasets.load_images(dataset, split, root=root)


def _test_size(n_train: int | None, n_test: int) -> int:
    return n_test if n_train is None else min(n_test, max(100, n_train // 4))


def build_model(spec: registry.ModelSpec, info: dict[str, Any], engine: str, options: dict[str, Any]):
    kwargs = dict(options)
    if spec.quantum:
        kwargs["engine"] = engine
    return spec.build(
        info["n_classes"], info["in_channels"], info["image_size"], dataset=info["dataset"], **kwargs
    )


def train_model(
    model: str,
    dataset: str = "mnist",
    *,
    out: Path = Path("runs"),
    engine: str = "torch",
    subset: int | None = None,
    test_subset: int | None = None,
    seed: int = 0,
    progress: bool = True,
    resume: Path | None = None,
    data_root: str | None = None,
    model_options: dict[str, Any] | None = None,
    **overrides: Any,
) -> tuple[Path, dict[str, Any]]:
    """Train a registered model on a dataset; returns ``(run_dir, metrics)``. ``overrides`` are
    :class:`TrainConfig` fields (``None`` keeps the model's default)."""
    name = read_run(resume)["model"] if resume is not None else model
    if "image-classification" not in registry.get(name).tasks:
        from .sequence_experiment import train_sequence

        sequence_overrides = {k: v for k, v in overrides.items() if v is not None}
        return train_sequence(
            model,
            dataset,
            out=out,
            engine=engine,
            subset=subset,
            seed=seed,
            progress=progress,
            resume=resume,
            data_root=data_root,
            model_options=model_options,
            **sequence_overrides,
        )
    if resume is not None:
        saved = read_run(resume)
        model, dataset, engine = saved["model"], saved["dataset"], saved["engine"]
        subset, test_subset, seed = saved["subset"], saved["test_subset"], saved["config"]["seed"]
        model_options, config = saved["model_options"], TrainConfig.from_dict(saved["config"])
        config = config.updated(epochs=overrides.get("epochs"), device=overrides.get("device"))
    else:
        spec = registry.get(model)
        config = TrainConfig(**{**spec.defaults, "seed": seed}).updated(**overrides)
        subset = spec.subset if subset is None else (subset or None)
    spec = registry.get(model)
    model_options = dict(model_options or {})
    train_ds = load_split(dataset, "train", data_root)
    test_ds = load_split(dataset, "test", data_root)
    if subset is not None and subset < len(train_ds):
        train_ds = train_ds.subset(subset, seed=seed)
    n_test = test_subset if test_subset is not None else _test_size(subset, len(test_ds))
    if n_test < len(test_ds):
        test_ds = test_ds.subset(n_test, seed=seed)
    if config.val_fraction > 0:
        train_ds, val_ds = train_ds.split(config.val_fraction, seed=seed)
    else:
        val_ds = None
    x, _ = train_ds.tensors()
    info = {
        "dataset": dataset,
        "n_classes": len(train_ds.classes),
        "in_channels": x.shape[1],
        "image_size": x.shape[2],
    }
    torch.manual_seed(seed)
    net = build_model(spec, info, engine, model_options)
    if resume is not None:
        run_dir = Path(resume)
    else:
        run_dir = new_run_dir(out, model, dataset)
        write_json(
            run_dir / "run.json",
            {
                "model": model,
                "dataset": dataset,
                "engine": engine,
                "model_options": model_options,
                "subset": subset,
                "test_subset": n_test,
                "info": info,
                "config": config.to_dict(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        )
    metrics = fit(
        net,
        train_ds.tensors(),
        None if val_ds is None else val_ds.tensors(),
        test_ds.tensors(),
        config,
        out_dir=run_dir,
        n_classes=info["n_classes"],
        classes=train_ds.classes,
        title=f"{model} on {dataset}",
        progress=progress,
        resume=resume is not None,
        extra={"model": model, "dataset": dataset, "engine": engine, "seed": seed},
    )
    return run_dir, metrics


def load_trained(run_dir: Path, device: str = "cpu"):
    """``(model, run_info)`` of a finished run, weights loaded, in eval mode."""
    saved = read_run(run_dir)
    weights = Path(run_dir) / "model.pt"
    if not weights.is_file():
        raise FileNotFoundError(f"{run_dir} has no model.pt (the run did not finish an epoch)")
    spec = registry.get(saved["model"])
    net = build_model(spec, saved["info"], saved["engine"], saved["model_options"])
    net.load_state_dict(torch.load(weights, map_location=device, weights_only=True))
    return net.to(device).eval(), saved


def evaluate_run(
    run_dir: Path,
    *,
    attack: str = "none",
    eps: float = 0.1,
    alpha: float = 0.01,
    steps: int = 10,
    subset: int | None = None,
    batch_size: int = 256,
    device: str = "cpu",
    seed: int = 0,
    data_root: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Clean and (with ``attack``) adversarial test accuracy of a run; appended to ``evaluation.json``.

    The test images are the run's own (same subset); ``seed`` seeds PGD's random start."""
    if attack not in ATTACKS:
        raise ValueError(f"attack must be one of {', '.join(ATTACKS)}; got {attack!r}")
    kind = read_run(run_dir)["model"]
    if "image-classification" not in registry.get(kind).tasks:
        raise ValueError(
            f"ketml evaluate measures image classifiers; {kind} runs report their metrics in "
            f"{Path(run_dir) / 'metrics.json'}"
        )
    net, saved = load_trained(run_dir, device)
    test_ds = load_split(saved["dataset"], "test", data_root)
    n = subset if subset is not None else saved.get("test_subset")
    if n is not None and n < len(test_ds):
        test_ds = test_ds.subset(n, seed=saved["config"]["seed"])  # the images the run was tested on
    x, y = test_ds.tensors()
    clean = evaluate_classifier(net, x, y, saved["info"]["n_classes"], batch_size=batch_size, device=device)
    entry: dict[str, Any] = {"attack": attack, "n_test": len(x), "clean_accuracy": clean["accuracy"]}
    if attack != "none":
        entry.update(eps=eps, alpha=alpha, steps=steps if attack != "fgsm" else 1, seed=seed)
        entry["robust_accuracy"] = robust_accuracy(
            net,
            x,
            y,
            attack,
            eps,
            alpha,
            steps,
            batch_size=batch_size,
            device=device,
            seed=seed,
            progress=progress,
        )
    path = Path(run_dir) / "evaluation.json"
    previous = json.loads(path.read_text()) if path.is_file() else []
    write_json(path, [*previous, entry])
    return entry
