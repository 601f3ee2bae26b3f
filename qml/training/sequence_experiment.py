"""``ketml train qrnn|qlstm|qfwp --dataset NAME``: tasks by name, per-task presets, run folders.

Three kinds of task: *regression* (time series windows -> next value: QLSTM, QFWP), *qrnn*
(bit sequences in Bausch's encoding: QRNN) and *rl* (gymnasium/MiniGrid episodes: QFWP, QLSTM
as the recurrent core of an actor-critic). ``metrics.json`` holds ``test_mse``,
``test_accuracy`` or ``mean_return`` respectively.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from .. import registry
from .config import TrainConfig
from .runs import new_run_dir, read_run, write_json

REGRESSION = ("damped-shm", "bessel-j2", "narma5", "narma10", "delayed-control")
QRNN_TASKS = ("elman-xor", "elman-letter", "mnist-pixels-01", "mnist-pixels-36")
RL_TASKS = ("cartpole", "minigrid-empty-5x5", "minigrid-empty-6x6", "minigrid-doorkey-5x5")


def task_kind(dataset: str) -> str:
    if dataset in REGRESSION:
        return "regression"
    if dataset in QRNN_TASKS:
        return "qrnn"
    if dataset in RL_TASKS:
        return "rl"
    known = ", ".join((*REGRESSION, *QRNN_TASKS, *RL_TASKS))
    raise ValueError(f"unknown sequence dataset {dataset!r}; known: {known}")


def regression_data(dataset: str, window: int = 4, train_fraction: float = 0.67, seed: int = 0):
    """``((x_train, y_train), (x_test, y_test))`` windows, split in time order, float64."""
    from qml.datasets import sequences as seq

    if dataset == "damped-shm":
        series = seq.damped_shm()
        x, y = seq.window(series, window)
    elif dataset == "bessel-j2":
        x, y = seq.window(seq.bessel_j2(), window)
    elif dataset in ("narma5", "narma10"):
        u, target = seq.narma(order=5 if dataset == "narma5" else 10, seed=seed)
        x, y = seq.window(target, window)
    else:
        x, y = seq.window(seq.delayed_quantum_control(seed=seed), window)
    (x_train, y_train), (x_test, y_test) = seq.time_split(x, y, train_fraction)
    as64 = lambda t: torch.as_tensor(t, dtype=torch.float64)  # noqa: E731
    return (as64(x_train), as64(y_train)), (as64(x_test), as64(y_test))


def qrnn_data(dataset: str, seed: int = 0, subset: int | None = None, data_root: str | None = None):
    """``(train, test)`` triples ``(inputs, targets, mask)`` for the QRNN."""
    from qml.datasets import qrnn_tasks

    if dataset == "elman-xor":
        return qrnn_tasks.qrnn_elman_xor(subset or 256, 36, seed), qrnn_tasks.qrnn_elman_xor(64, 36, seed + 1)
    if dataset == "elman-letter":
        return (
            qrnn_tasks.qrnn_elman_letters(subset or 256, 36, seed),
            qrnn_tasks.qrnn_elman_letters(64, 36, seed + 1),
        )
    from qml.datasets import load_mnist

    digits = (0, 1) if dataset == "mnist-pixels-01" else (3, 6)
    out = []
    for split in ("train", "test"):
        ds = load_mnist(split, root=data_root)
        x, y, m, labels = qrnn_tasks.qrnn_mnist_pixels(ds.images, ds.labels, digits)
        limit = subset if split == "train" else (None if subset is None else max(200, subset // 4))
        if limit is not None and limit < len(x):
            keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:limit]
            x, y, m = x[keep], y[keep], m[keep]
        out.append((x, y, m))
    return out[0], out[1]


def build_sequence_model(spec: registry.ModelSpec, kind: str, dims: dict[str, int], engine: str, options):
    kwargs = dict(options)
    if spec.quantum and spec.name != "qrnn":
        kwargs["engine"] = engine
    if kind == "rl":
        from qml.rl import RecurrentActorCritic

        return RecurrentActorCritic(spec.name, dims["obs_dim"], dims["n_actions"], **kwargs)
    return spec.build(dims["input_size"], dims["output_size"], **kwargs)


def train_sequence(
    model: str,
    dataset: str,
    *,
    out: Path = Path("runs"),
    engine: str = "torch",
    subset: int | None = None,
    seed: int = 0,
    progress: bool = True,
    resume: Path | None = None,
    data_root: str | None = None,
    model_options: dict[str, Any] | None = None,
    **overrides: Any,
) -> tuple[Path, dict[str, Any]]:
    """Train a sequence model on a named task; returns ``(run_dir, metrics)``."""
    overrides.pop("device", None) if overrides.get("device") == "cpu" else None
    if resume is not None:
        saved = read_run(resume)
        model, dataset, engine, subset = saved["model"], saved["dataset"], saved["engine"], saved["subset"]
        model_options, seed = saved["model_options"], saved["config"]["seed"]
        config = TrainConfig.from_dict(saved["config"]).updated(epochs=overrides.get("epochs"))
    spec = registry.get(model)
    kind = task_kind(dataset)
    if kind not in spec.tasks:
        raise ValueError(
            f"{model} does not take {kind} tasks like {dataset!r}; it takes: {', '.join(spec.tasks)}"
        )
    preset_options, preset_config = spec.presets.get(dataset, ({}, {}))
    options = {**preset_options, **(model_options or {})}
    if resume is None:
        config = TrainConfig(**{**spec.defaults, **preset_config, "seed": seed}).updated(**overrides)
    torch.manual_seed(seed)
    run_dir = Path(resume) if resume is not None else new_run_dir(out, model, dataset)
    extra = {"model": model, "dataset": dataset, "engine": engine, "seed": seed}
    title = f"{model} on {dataset}"
    if kind == "rl":
        from qml.rl import A2CConfig, make_env, train_a2c

        env = make_env(dataset, seed)
        dims = {"obs_dim": env.obs_dim, "n_actions": env.n_actions}
        env.close()
        net = build_sequence_model(spec, kind, dims, engine, options)
        a2c = A2CConfig(episodes=config.epochs, lr=config.lr, seed=seed, grad_clip=config.grad_clip or 1.0)
        _write_run(run_dir, model, dataset, engine, options, subset, config, dims, resume)
        return run_dir, train_a2c(net, dataset, a2c, out_dir=run_dir, progress=progress, extra=extra)
    from .sequences import fit_qrnn, fit_regression

    if kind == "qrnn":
        train, test = qrnn_data(dataset, seed, subset, data_root)
        dims = {"input_size": train[0].shape[2], "output_size": train[0].shape[2]}
        net = spec.build(dims["input_size"], **options)
        _write_run(run_dir, model, dataset, engine, options, subset, config, dims, resume)
        metrics = fit_qrnn(
            net,
            train,
            test,
            config,
            out_dir=run_dir,
            title=title,
            progress=progress,
            resume=resume is not None,
            extra=extra,
        )
        return run_dir, metrics
    train, test = regression_data(dataset, seed=seed)
    dims = {"input_size": train[0].shape[2], "output_size": train[1].shape[1]}
    net = build_sequence_model(
        spec, kind, dims, engine, {**options, "dtype": options.get("dtype", "complex128")}
    )
    net = net.double()
    _write_run(run_dir, model, dataset, engine, options, subset, config, dims, resume)
    metrics = fit_regression(
        net,
        train,
        test,
        config,
        out_dir=run_dir,
        title=title,
        progress=progress,
        resume=resume is not None,
        extra=extra,
    )
    return run_dir, metrics


def _write_run(run_dir, model, dataset, engine, options, subset, config, dims, resume) -> None:
    if resume is None:
        write_json(
            Path(run_dir) / "run.json",
            {
                "model": model,
                "dataset": dataset,
                "engine": engine,
                "model_options": options,
                "subset": subset,
                "info": dims,
                "config": config.to_dict(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        )
