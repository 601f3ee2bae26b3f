"""One training or evaluation job from names: what ``ketml train`` and ``ketml evaluate`` run.

``train("hqnn-parallel", "mnist", ...)`` asks the registry for the model and for the dataset's
task, loads the data through the task, builds the model (seeded) through the one build signature,
writes ``run.json`` into a fresh run folder and hands over to the task's fit.
``evaluate_run(run_dir, ...)`` rebuilds the trained model from its folder and asks its task to
measure it again.
"""

from __future__ import annotations

import difflib
import inspect
import re
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from circuits.errors import ConfigurationError, DataError, KetmlError
from circuits.files import CorruptFileError, check_output_dir

from .. import registry
from .config import TrainConfig
from .optim import TrainingInterrupted, check_extension
from .prepared_file import load_or_read
from .runs import RunNotFoundError, load_torch, new_run_dir, read_run, write_json
from .task import Task


def run_task(saved: dict[str, Any]) -> Task:
    """The task of a run (run.json of runs made before tasks were recorded: from the dataset)."""
    if "task" in saved:
        return registry.get_task(saved["task"])
    return registry.task_for(saved["dataset"], registry.get(saved["model"]))


#: TrainConfig fields that resuming may change: the device runs it, the epochs extend it
RESUMABLE = ("epochs", "device", "batching")


def default_dataset(spec) -> str:
    """mnist for the models that take it, else the first dataset of the model's first task."""
    tasks = [registry.get_task(t) for t in spec.tasks]
    if not tasks or any("mnist" in t.datasets() for t in tasks) or not tasks[0].datasets():
        return "mnist"
    return tasks[0].datasets()[0]


def check_engine(engine: str) -> str:
    """``engine`` if it names a registered engine (or ``auto``); an error listing them otherwise,
    before any work, also for models without quantum layers (the run records the engine)."""
    from circuits.engines import UnknownEngineError, capabilities

    known = [*capabilities(), "auto"]
    if engine not in known:
        close = difflib.get_close_matches(str(engine), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownEngineError(
            f"unknown engine {engine!r}{hint} (known engines: {', '.join(known)}; see 'ketml engines')"
        )
    return engine


def check_device(device: str, note: str = "") -> str:
    """A torch device that exists on this machine: ``cuda`` needs a GPU torch can see."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigurationError(
            f"device {device!r} is not a torch device; use cpu, cuda or cuda:N"
        ) from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigurationError(
                f"device {device!r}: torch sees no CUDA GPU on this machine{note}; use cpu"
            )
        if dev.index is not None and dev.index >= count:
            raise ConfigurationError(f"device {device!r}: this machine has {count} CUDA GPU(s) (cuda:0..)")
    elif dev.type not in ("cpu", "mps", "meta"):
        raise ConfigurationError(f"device {device!r} is not supported here; use cpu or cuda")
    return device


def _option_defaults(spec) -> dict[str, Any] | None:
    """The model options a model takes, with their defaults, where its build says (None: unknown)."""
    return getattr(spec.build, "option_defaults", None)


def _close(name: str, spec) -> str:
    """'; did you mean ...?' with the model's option names closest to ``name`` (or nothing)."""
    close = difflib.get_close_matches(name, list(_option_defaults(spec) or {}), n=2)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def check_model_options(spec, options: dict[str, Any]) -> None:
    """Options the model does not take (with the closest names) or strings where it takes a
    number, found before any data is loaded, where the model's constructor names its options."""
    known = _option_defaults(spec)
    if known is None:
        return
    for name, value in options.items():
        if name not in known:
            if getattr(spec.build, "open_options", False):  # passed on (**kwargs): checked when built
                continue
            listed = ", ".join(sorted(known)) or "none"
            raise ConfigurationError(
                f"{spec.name} has no option {name!r}{_close(name, spec)} (its options: {listed})"
            )
        default = known[name]
        numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
        if numeric and not isinstance(value, (int, float)):
            raise ConfigurationError(
                f"option {name} of {spec.name} takes a number (default {default}), got {value!r}"
            )


def check_data_options(task: Task, options: dict[str, Any]) -> None:
    """Data options the task's loading does not take, named with the closest ones, before loading."""
    params = inspect.signature(task.load).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    known = [k for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    known = [k for k in known if k not in ("seed", "subset", "test_subset", "data_root")]
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=2)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            listed = ", ".join(known) or "none"
            raise ConfigurationError(
                f"the {task.name} task has no data option {name!r}{hint} (its data options: {listed})"
            )


def check_data_root(data_root: str | None) -> None:
    """``data_root`` (``--data-root``) must be an existing folder when given."""
    if data_root is None:
        return
    path = Path(data_root)
    if not path.is_dir():
        what = "is a file" if path.exists() else "does not exist"
        raise DataError(f"--data-root {data_root} {what}; give the folder holding the dataset's files")


def _build(task: Task, spec, dims: dict[str, Any], engine: str, options: dict[str, Any]):
    """The model; a bad option (a name or value the model rejects) is a one-line error naming it."""
    try:
        return task.build(spec, dims, engine, options)
    except (TypeError, ConfigurationError) as exc:
        # a keyword no constructor takes: the model's own, or one it passed on to its engine
        bad = re.search(r"unexpected keyword argument '(\w+)'|takes no option '(\w+)'", str(exc))
        name = bad and (bad.group(1) or bad.group(2))
        if name and name in options:
            raise ConfigurationError(f"{spec.name} has no option {name!r}{_close(name, spec)}") from None
        if not options or isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(f"{spec.name} cannot be built with the options {options}: {exc}") from None
    except ValueError as exc:
        if not options or isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(f"{spec.name} cannot be built with the options {options}: {exc}") from None


def _conflicts(saved: dict[str, Any], config: TrainConfig, given: dict[str, Any]) -> list[str]:
    """The options given with ``resume`` that differ from what the run recorded, as 'name (run:
    value, given: value)'."""
    recorded = {
        "model": saved["model"],
        "dataset": saved["dataset"],
        "engine": saved["engine"],
        "seed": config.seed,
        "subset": saved.get("subset"),
        "test_subset": saved.get("test_subset"),
        **{k: v for k, v in config.to_dict().items() if k not in RESUMABLE},
    }
    out = []
    for name, value in given.items():
        if value is None or name in RESUMABLE:
            continue
        if name in ("model_options", "data_options"):
            have = saved.get(name, {}) or {}
            diff = {k: v for k, v in value.items() if have.get(k, object()) != v}
            out += [
                f"{name[:-8]} option {k} (run: {have.get(k, 'unset')}, given: {v})" for k, v in diff.items()
            ]
        elif name in recorded and recorded[name] != value:
            out.append(f"{name} (run: {recorded[name]}, given: {value})")
        elif name not in recorded:
            out.append(f"{name} (does not apply when resuming)")
    return out


def train(
    model: str | None,
    dataset: str | None = None,
    *,
    out: Path | None = None,
    engine: str | None = None,
    subset: int | None = None,
    test_subset: int | None = None,
    seed: int | None = None,
    progress: bool = True,
    resume: Path | None = None,
    data_root: str | None = None,
    model_options: dict[str, Any] | None = None,
    data_options: dict[str, Any] | None = None,
    run_name: str | None = None,
    extra: dict[str, Any] | None = None,
    prepared_file: Path | None = None,
    prepare_only: bool = False,
    **overrides: Any,
) -> tuple[Path | None, dict[str, Any]]:
    """Train a registered model on a dataset (default mnist); returns ``(run_dir, metrics)``.

    ``overrides`` are :class:`TrainConfig` fields (``None`` keeps the model's default or the
    preset's); ``model_options`` and ``data_options`` go over the preset's for this dataset;
    ``subset=0`` trains on every sample; ``run_name`` replaces ``<model>-<dataset>`` in the run
    folder's name; ``extra`` is copied into metrics.json; ``out`` (default ``runs``) is the folder
    the run folder is made in. ``resume`` continues a run folder exactly: its run.json decides
    everything but ``epochs``, ``device`` and ``batching`` (recorded in its ``resumed`` list), and
    any other option given that differs from the
    run is refused, named. ``prepared_file`` keeps the task's loaded data: read from it when it
    exists (checked to have been loaded with the same options), else loaded and written there
    (:mod:`.prepared_file`), so a run can train on a machine that did not prepare its data;
    ``prepare_only`` stops there (no run folder; returns ``(None, {})``)."""
    if prepare_only and prepared_file is None:
        raise ConfigurationError("prepare_only needs a prepared_file to write the loaded data to")
    if resume is not None:
        saved = read_run(resume)
        config = TrainConfig.from_dict(saved["config"])
        given = {
            "model": model,
            "dataset": dataset,
            "engine": engine,
            "seed": seed,
            "subset": subset,
            "test_subset": test_subset,
            "model_options": model_options or None,
            "data_options": data_options or None,
            "run_name": run_name,
            "out": out,
            **overrides,
        }
        conflicts = _conflicts(saved, config, given)
        if conflicts:
            raise ConfigurationError(
                f"--resume {resume} continues the run as it was recorded; these options conflict "
                f"with it: {'; '.join(conflicts)}. Leave them out, or train a new run"
            )
        model, dataset, engine = saved["model"], saved["dataset"], saved["engine"]
        subset, test_subset = saved.get("subset"), saved.get("test_subset")
        options, data_opts = saved["model_options"], saved.get("data_options", {})
        planned = config.epochs
        config = config.updated(**{k: overrides.get(k) for k in RESUMABLE})
        check_extension(config, planned)
        check_device(config.device, " (the run was trained on it; give --device cpu)")
        seed, task = config.seed, run_task(saved)
    if model is None:
        raise ConfigurationError("name a model (ketml train --list shows them) or give a run to resume")
    spec = registry.get(model)
    if resume is None:
        dataset = default_dataset(spec) if dataset is None else dataset
        engine = check_engine("torch" if engine is None else engine)
        seed = 0 if seed is None else seed
        out = check_output_dir(Path("runs") if out is None else out)
        task = registry.task_for(dataset, spec)
        preset = spec.preset(dataset, task.name)
        options = {**preset.options, **(model_options or {})}
        check_model_options(spec, model_options or {})
        data_opts = {**preset.data, **(data_options or {})}
        config = TrainConfig(**{**spec.defaults, **preset.train, "seed": seed}).updated(**overrides)
        check_device(config.device)
        if subset is None:
            subset = data_opts.pop("subset", spec.subset)
        else:
            data_opts.pop("subset", None)
        subset = subset or None
        check_data_options(task, data_opts)  # "subset" (of presets) is no data option: popped above
    check_data_root(data_root)
    load_args = {
        "seed": seed,
        "subset": subset,
        "test_subset": test_subset,
        "data_root": data_root,
        **data_opts,
    }
    prepared = load_or_read(task, dataset, load_args, prepared_file)
    if prepare_only:
        return None, {}
    torch.manual_seed(seed)
    net = _build(task, spec, prepared.dims, engine, options)
    if resume is not None:
        run_dir = Path(resume)
        if config.to_dict() != saved["config"]:  # run.json says what the run is now trained for
            history = saved.get("resumed", [])
            step = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **{k: getattr(config, k) for k in RESUMABLE}}
            write_json(
                run_dir / "run.json", {**saved, "config": config.to_dict(), "resumed": [*history, step]}
            )
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
    try:
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
    except KetmlError:
        if resume is None and [p.name for p in run_dir.iterdir()] == ["run.json"]:
            shutil.rmtree(run_dir)  # refused before training: leave no empty run folder behind
        raise
    return run_dir, metrics


def load_trained(run_dir: Path, device: str = "cpu"):
    """``(model, run_info)`` of a finished run, weights loaded, in eval mode."""
    saved = read_run(run_dir)
    weights = Path(run_dir) / "model.pt"
    if not weights.is_file():
        raise RunNotFoundError(f"{run_dir} has no model.pt (the run did not finish an epoch)")
    spec = registry.get(saved["model"])
    check_device(device)
    net = run_task(saved).build(spec, saved["info"], saved["engine"], saved["model_options"])
    try:
        net.load_state_dict(load_torch(weights, device, "weights"))
    except RuntimeError as exc:  # weights of another model (mismatched keys or shapes)
        raise CorruptFileError(
            f"{weights} does not hold the weights of the model run.json describes ({saved['model']}): "
            f"{str(exc).splitlines()[0]}; restore it from a backup, or train the run again"
        ) from None
    return net.to(device).eval(), saved


def evaluate_run(run_dir: Path, **options: Any) -> dict[str, Any]:
    """Measure a finished run again through its task (image classifiers: clean and adversarial
    test accuracy, appended to ``evaluation.json``; see the task's ``evaluate`` for ``options``)."""
    saved = read_run(run_dir)
    return run_task(saved).evaluate(Path(run_dir), saved, **options)


def finish_stopped(
    run_dir: Path, *, data_root: str | None = None, prepared_file: Path | None = None
) -> dict[str, Any]:
    """Finish a run stopped before its planned epochs (a time budget): the best weights so far
    (``model.pt``, else the checkpoint's) become the model, and the task's own finish writes its
    files and ``metrics.json``, marked ``stopped_at_epoch``. The data is loaded again (or read
    from ``prepared_file``) with the options the run recorded."""
    from .loop import count_parameters

    run_dir = Path(run_dir)
    saved = read_run(run_dir)
    task, spec = run_task(saved), registry.get(saved["model"])
    config = TrainConfig.from_dict(saved["config"])
    load_args = {"seed": config.seed, "subset": saved.get("subset"), "test_subset": saved.get("test_subset")}
    load_args.update(data_root=data_root, **saved.get("data_options", {}))
    prepared = load_or_read(task, saved["dataset"], load_args, prepared_file)
    net = _build(task, spec, prepared.dims, saved["engine"], saved["model_options"])
    state = load_torch(run_dir / "checkpoint.pt", "cpu")
    weights = run_dir / "model.pt"
    net.load_state_dict(load_torch(weights, "cpu") if weights.is_file() else state["model"])
    history = state["history"]
    if not history.get("train_loss"):
        raise TrainingInterrupted(f"{run_dir} stopped before its first epoch ended: nothing to finish")
    seconds = history.get("seconds", [])
    metrics: dict[str, Any] = {
        **count_parameters(net),
        "epochs": len(history.get("train_loss", [])),
        "planned_epochs": config.epochs,
        "stopped_at_epoch": state["epoch"],
        "best_epoch": (state.get("best") or {}).get("epoch"),
        "seconds_per_epoch": sum(seconds) / max(len(seconds), 1),
    }
    device = config.device if config.device == "cpu" or torch.cuda.is_available() else "cpu"
    net.to(device)
    hooks = task.hooks(prepared, config.updated(device=device))
    metrics.update(
        hooks.finish(net, history, run_dir, f"{saved['model']} on {saved['dataset']} (stopped for time)")
    )
    metrics.update(history=history, config=config.to_dict())
    write_json(run_dir / "metrics.json", metrics)
    return metrics
