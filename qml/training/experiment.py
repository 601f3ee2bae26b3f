"""One training or evaluation job from names: what ``ketml train`` and ``ketml evaluate`` run.

``train("hqnn-parallel", "mnist", ...)`` asks the registry for the model and for the dataset's
task, loads the data through the task, builds the model (seeded) through the one build signature,
writes ``run.json`` into a fresh run folder and hands over to the task's fit.
``evaluate_run(run_dir, ...)`` rebuilds the trained model from its folder and asks its task to
measure it again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from circuits.errors import ConfigurationError

from .. import registry
from .config import TrainConfig
from .runs import RunNotFoundError, new_run_dir, read_run, write_json
from .task import Task


def run_task(saved: dict[str, Any]) -> Task:
    """The task of a run (run.json of runs made before tasks were recorded: from the dataset)."""
    if "task" in saved:
        return registry.get_task(saved["task"])
    return registry.task_for(saved["dataset"], registry.get(saved["model"]))


def train(
    model: str | None,
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
    data_options: dict[str, Any] | None = None,
    run_name: str | None = None,
    extra: dict[str, Any] | None = None,
    **overrides: Any,
) -> tuple[Path, dict[str, Any]]:
    """Train a registered model on a dataset; returns ``(run_dir, metrics)``.

    ``overrides`` are :class:`TrainConfig` fields (``None`` keeps the model's default or the
    preset's); ``model_options`` and ``data_options`` go over the preset's for this dataset;
    ``subset=0`` trains on every sample; ``run_name`` replaces ``<model>-<dataset>`` in the run
    folder's name; ``extra`` is copied into metrics.json. ``resume`` continues a run folder (its
    run.json decides everything but ``epochs`` and ``device``)."""
    if resume is not None:
        saved = read_run(resume)
        model, dataset, engine = saved["model"], saved["dataset"], saved["engine"]
        subset, test_subset = saved.get("subset"), saved.get("test_subset")
        options, data_opts = saved["model_options"], saved.get("data_options", {})
        config = TrainConfig.from_dict(saved["config"])
        config = config.updated(epochs=overrides.get("epochs"), device=overrides.get("device"))
        seed, task = config.seed, run_task(saved)
    if model is None:
        raise ConfigurationError("name a model (ketml train --list shows them) or give a run to resume")
    spec = registry.get(model)
    if resume is None:
        task = registry.task_for(dataset, spec)
        preset = spec.preset(dataset, task.name)
        options = {**preset.options, **(model_options or {})}
        data_opts = {**preset.data, **(data_options or {})}
        config = TrainConfig(**{**spec.defaults, **preset.train, "seed": seed}).updated(**overrides)
        if subset is None:
            subset = data_opts.pop("subset", spec.subset)
        else:
            data_opts.pop("subset", None)
        subset = subset or None
    prepared = task.load(
        dataset, seed=seed, subset=subset, test_subset=test_subset, data_root=data_root, **data_opts
    )
    torch.manual_seed(seed)
    net = task.build(spec, prepared.dims, engine, options)
    if resume is not None:
        run_dir = Path(resume)
    else:
        run_dir = new_run_dir(out, model, dataset) if run_name is None else new_run_dir(out, run_name, None)
        write_json(
            run_dir / "run.json",
            {
                "model": model,
                "dataset": dataset,
                "task": task.name,
                "engine": engine,
                "model_options": options,
                "data_options": data_opts,
                "subset": subset,
                **prepared.record,
                "info": prepared.dims,
                "config": config.to_dict(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        )
    metrics = task.fit(
        net,
        prepared,
        config,
        out_dir=run_dir,
        title=f"{model} on {dataset}",
        progress=progress,
        resume=resume is not None,
        extra={"model": model, "dataset": dataset, "engine": engine, "seed": seed, **(extra or {})},
    )
    return run_dir, metrics


def load_trained(run_dir: Path, device: str = "cpu"):
    """``(model, run_info)`` of a finished run, weights loaded, in eval mode."""
    saved = read_run(run_dir)
    weights = Path(run_dir) / "model.pt"
    if not weights.is_file():
        raise RunNotFoundError(f"{run_dir} has no model.pt (the run did not finish an epoch)")
    spec = registry.get(saved["model"])
    net = run_task(saved).build(spec, saved["info"], saved["engine"], saved["model_options"])
    net.load_state_dict(torch.load(weights, map_location=device, weights_only=True))
    return net.to(device).eval(), saved


def evaluate_run(run_dir: Path, **options: Any) -> dict[str, Any]:
    """Measure a finished run again through its task (image classifiers: clean and adversarial
    test accuracy, appended to ``evaluation.json``; see the task's ``evaluate`` for ``options``)."""
    saved = read_run(run_dir)
    return run_task(saved).evaluate(Path(run_dir), saved, **options)
