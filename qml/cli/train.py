"""``ketml train``, ``ketml evaluate`` and ``ketml demo``: the shared trainer on the command line.

The models and tasks that ``ketml train --help`` and ``--list`` show come from the registry
(:mod:`qml.registry`), read only when asked, so ``ketml --help`` stays fast. Expected failures
(unknown model or dataset, missing data files, bad options) print one line ``ketml: error: ...``
and exit with status 2, like every other ``ketml`` command.
"""

from __future__ import annotations

import ast
import json
import warnings
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from click.core import ParameterSource
from typer.core import TyperCommand

from circuits.errors import KetmlError

from .app import app
from .common import CliError, cli_errors


class _Choices(click.Choice):
    """The values of a ``TrainConfig`` setting (``OPTIMIZERS``, ...) as a click choice, the one list
    that parsing, ``--help`` and the config share; read when first used, so importing the CLI
    does not import torch."""

    def __init__(self, name: str):
        self._name, self.case_sensitive = name, True

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        from qml.training import config

        return getattr(config, self._name)


def _model_options(specs: list[str], flag: str = "--option", example: str = "n_layers=1") -> dict[str, Any]:
    """``--option name=value`` (or ``--data-option``) pairs; values are Python literals (3, 0.5,
    'Z', [1, 2]), ``true``/``false`` in any case (booleans, not the truthy strings), or strings."""
    options: dict[str, Any] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name.strip().isidentifier():
            raise CliError(f"{flag} {spec!r}: write name=value, e.g. {flag} {example}")
        if value.strip().lower() in ("true", "false"):
            options[name.strip()] = value.strip().lower() == "true"
            continue
        try:
            options[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            options[name.strip()] = value.strip()
    return options


def _registry_text() -> str:
    """The models and the tasks with their datasets, as the help's closing paragraphs."""
    from qml import registry

    models = "; ".join(f"{s.name} ({s.task})" for s in registry.specs())
    tasks = "; ".join(f"{t}: {', '.join(registry.get_task(t).datasets())}" for t in registry.task_names())
    return f"Models: {models}.\n\nTasks and their datasets: {tasks}."


def _flag_lines(spec) -> str:
    """The flags a model declares (``ModelSpec.cli_options``), one per line, for ``--help``."""
    lines = [
        f"--{flag}{'' if opt.type is bool else ' ' + opt.type.__name__.upper()}: {opt.help}"
        for flag, opt in spec.cli_options.items()
    ]
    return f"Options of {spec.name}:\n\n" + "\n\n".join(lines) if lines else ""


def _family_options(spec, args: list[str]) -> dict[str, Any]:
    """The model options set by ``args``, the command line's tokens that no option of ``train``
    took, against the flags the model declares (``--qubits 3``, ``--qubits=3``, ``--classical-layer``)."""
    out: dict[str, Any] = {}
    tokens = iter(args)
    for token in tokens:
        flag, eq, value = token.partition("=")
        opt = spec.cli_options.get(flag[2:]) if flag.startswith("--") else None
        if opt is None:
            own = ", ".join(f"--{f}" for f in spec.cli_options) or "none"
            what = "option" if token.startswith("-") else "argument"
            raise CliError(f"unknown {what} {flag!r} for {spec.name} (its own flags: {own}; see --help)")
        if opt.type is bool:
            if eq:
                raise CliError(f"{flag} takes no value")
            out[opt.option] = True
            continue
        value = value if eq else next(tokens, None)
        try:
            out[opt.option] = opt.type(value)
        except (TypeError, ValueError):
            raise CliError(f"{flag} needs a value of type {opt.type.__name__}, got {value!r}") from None
    return out


class _RegistryHelp(TyperCommand):
    """A command whose help ends with the registry's models and tasks, looked up when shown, and
    with the flags of the model named on the command line (``ketml train onion-qrc --help``)."""

    def parse_args(self, ctx, args):
        ctx.meta["ketml_train_args"] = list(args)
        return super().parse_args(ctx, args)

    def format_help(self, ctx, formatter):
        from qml import registry

        named = [a for a in ctx.meta.get("ketml_train_args", []) if a in registry.names()]
        extra = _flag_lines(registry.get(named[0])) if named else ""
        self.epilog = (extra + "\n\n" if extra else "") + _registry_text()
        return super().format_help(ctx, formatter)


def _list_models() -> None:
    from qml import registry

    specs = registry.specs()
    width = max(len(s.name) for s in specs)
    tasks = max(len(s.task) for s in specs)
    typer.echo(f"{'model':<{width}}  {'task':<{tasks}}  description")
    for spec in specs:
        typer.echo(f"{spec.name:<{width}}  {spec.task:<{tasks}}  {spec.description}")


@app.command(cls=_RegistryHelp, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Registered model name (see --list).")] = None,
    list_models: Annotated[bool, typer.Option("--list", help="List the registered models and exit.")] = False,
    dataset: Annotated[
        str, typer.Option("--dataset", "-d", help="Dataset (its kind picks the task; listed below).")
    ] = "mnist",
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: the model's).", min=1)] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Mini-batch size (default: the model's).", min=1)
    ] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate (default: the model's).")] = None,
    optimizer: Annotated[
        str | None,
        typer.Option(click_type=_Choices("OPTIMIZERS"), help="Optimiser (default: the model's)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            click_type=_Choices("SCHEDULERS"), help="Learning-rate schedule (default: the model's)."
        ),
    ] = None,
    weight_decay: Annotated[float | None, typer.Option(help="Weight decay (default: the model's).")] = None,
    patience: Annotated[
        int | None,
        typer.Option(help="Stop after this many epochs without a better validation accuracy; 0: never."),
    ] = None,
    val_fraction: Annotated[
        float | None, typer.Option(help="Fraction of the training set held out for validation.")
    ] = None,
    augment: Annotated[
        str | None,
        typer.Option(click_type=_Choices("AUGMENTATIONS"), help="affine: random rotation/shift per batch."),
    ] = None,
    batching: Annotated[
        str | None,
        typer.Option(
            click_type=_Choices("BATCHINGS"),
            help="random mini-batches, or by-length: each window of 50 batches sorted by sequence length,"
            " its batches taken in random order (sequence tasks such as llm-circuits; less padding, faster).",
        ),
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", "-e", help="Engine of the quantum layers (see 'ketml engines').")
    ] = "torch",
    device: Annotated[str, typer.Option(help="Torch device: cpu, cuda, cuda:1.")] = "cpu",
    subset: Annotated[
        int | None,
        typer.Option(help="Train on this many samples (stratified); 0: the whole set; default: the model's."),
    ] = None,
    test_subset: Annotated[
        int | None, typer.Option(help="Test on this many images (default: all, or subset/4).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of weights, data split, batch order and augmentation.")] = 0,
    out: Annotated[
        Path, typer.Option(help="Folder in which the run folder <model>-<dataset>-<time>/ is made.")
    ] = Path("runs"),
    resume: Annotated[
        Path | None, typer.Option(help="Continue the run in this folder from its last checkpoint.")
    ] = None,
    data_root: Annotated[
        str | None,
        typer.Option(
            "--data-root",
            "--data",
            help="Folder holding the dataset's files (default: $KETML_DATA/<dataset>).",
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option", "-O", help="Model option name=value, e.g. -O n_layers=1 -O readout='Z'. Repeatable."
        ),
    ] = None,
    data_option: Annotated[
        list[str] | None,
        typer.Option(
            "--data-option",
            "-D",
            help="Option of the task's data loading name=value, over the model's preset, e.g. -D "
            "horizon=8 -D site='urban' -D index_tokens=true (values: Python literals, true/false, or "
            "text; reservoir forecasts: horizon, site, n_points, washout). Repeatable.",
        ),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bars per epoch.")
    ] = True,
) -> None:
    """Train a registered model; writes run.json, model.pt, checkpoint.pt, metrics.json and plots.

    A model may add flags of its own after its name (ketml train onion-qrc --qubits 3); 'ketml train
    MODEL --help' lists them."""
    if list_models:
        _list_models()
        return
    with cli_errors():
        if model is None and resume is None:
            raise CliError("name a model (ketml train --list shows them) or give --resume RUN")
        if model is None and ctx.args:
            raise CliError(f"unexpected argument {ctx.args[0]!r} (a model's own flags follow its name)")
        from qml import registry
        from qml.training.experiment import run_task
        from qml.training.experiment import train as train_run
        from qml.training.runs import read_run

        def given(name: str, value: Any) -> Any:
            """The value when given on the command line; None (the run's or the model's) otherwise."""
            source = ctx.get_parameter_source(name)
            return value if source not in (None, ParameterSource.DEFAULT) else None

        run_dir, metrics = train_run(
            model,
            given("dataset", dataset),
            out=given("out", out),
            engine=given("engine", engine),
            subset=subset,
            test_subset=test_subset,
            seed=given("seed", seed),
            progress=progress,
            resume=resume,
            data_root=data_root,
            model_options={
                **_model_options(option or []),
                **(_family_options(registry.get(model), ctx.args) if model else {}),
            },
            data_options=_model_options(data_option or [], "--data-option", "horizon=8"),
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            scheduler=scheduler,
            weight_decay=weight_decay,
            patience=patience,
            val_fraction=val_fraction,
            augment=augment,
            batching=batching,
            device=given("device", device),
        )
        task = run_task(read_run(run_dir))
    typer.echo(task.headline(metrics))
    typer.echo(f"run folder: {run_dir}")


@app.command()
def evaluate(
    run: Annotated[Path, typer.Argument(help="A run folder written by 'ketml train'.")],
    attack: Annotated[
        str,
        typer.Option(
            help="none, fgsm, pgd (pixel space) or pgd-paper (PGD on normalised inputs, arXiv 2509.13353)."
        ),
    ] = "none",
    eps: Annotated[
        float, typer.Option(help="L-inf radius of the attack (pixel units, or normalised for pgd-paper).")
    ] = 0.1,
    alpha: Annotated[float, typer.Option(help="PGD step size.")] = 0.01,
    steps: Annotated[int, typer.Option(help="PGD steps.", min=1)] = 10,
    subset: Annotated[
        int | None, typer.Option(help="Evaluate on this many test images (default: as trained).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Batch size of the evaluation.", min=1)] = 256,
    device: Annotated[str, typer.Option(help="Torch device.")] = "cpu",
    seed: Annotated[int, typer.Option(help="Seed of the test subset and PGD's random start.")] = 0,
    data_root: Annotated[str | None, typer.Option(help="Folder holding the dataset's files.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar.")] = True,
) -> None:
    """Clean and adversarial test accuracy of a trained run (appended to RUN/evaluation.json)."""
    with cli_errors(), warnings.catch_warnings(record=True) as caught:
        from qml.training.experiment import evaluate_run
        from qml.training.runs import RunFileWarning

        warnings.simplefilter("always", RunFileWarning)
        entry = evaluate_run(
            run,
            attack=attack,
            eps=eps,
            alpha=alpha,
            steps=steps,
            subset=subset,
            batch_size=batch_size,
            device=device,
            seed=seed,
            data_root=data_root,
            progress=progress,
        )
    for w in caught:
        if issubclass(w.category, RunFileWarning):
            typer.echo(f"ketml: warning: {w.message}", err=True)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if as_json:
        typer.echo(json.dumps(entry, indent=2))
        return
    typer.echo(f"clean accuracy:  {entry['clean_accuracy']:.4f}  ({entry['n_test']} test images)")
    if "robust_accuracy" in entry:
        typer.echo(f"robust accuracy: {entry['robust_accuracy']:.4f}  ({attack}, eps={eps})")


@app.command()
def demo(
    epochs: Annotated[
        int | None, typer.Option(help="Training epochs (default 30, or 6 with --quick).", min=1)
    ] = None,
    qubits: Annotated[
        int | None, typer.Option(help="Qubits of the quantum layer, 4 to 8 (default 6).", min=4, max=8)
    ] = None,
    layers: Annotated[
        int | None, typer.Option(help="Strongly entangling layers of the circuit (default 4).", min=1)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the initial weights, split and batch order.")] = 0,
    out: Annotated[
        Path, typer.Option(help="Folder in which the run folder demo-<timestamp>/ is created.")
    ] = Path("runs"),
    engine: Annotated[
        str, typer.Option(help="Engine of the quantum layer (see 'ketml engines'); 'auto' uses a GPU.")
    ] = "torch",
    quick: Annotated[
        bool, typer.Option("--quick", help="6 epochs on 400 training images: checks the pipeline in seconds.")
    ] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar per epoch.")
    ] = True,
) -> None:
    """Train a hybrid CNN + quantum classifier on scikit-learn's digits (offline).

    The preset of 'ketml train hybrid-digits --dataset digits'; writes run.json, metrics.json,
    curves.png and confusion.png into OUT/demo-<timestamp>/.
    """
    with cli_errors():
        from qml import demo as demo_run

        try:
            metrics = demo_run.run(
                epochs=epochs,
                qubits=qubits,
                seed=seed,
                out=out,
                engine=engine,
                quick=quick,
                layers=layers,
                progress=progress,
                verbose=False,
            )
        except KetmlError:
            raise
        except OSError as exc:
            raise CliError(f"cannot write the run folder under {out}: {exc.strerror or exc}") from None
    run_dir = Path(metrics["run_dir"])
    typer.echo(f"test accuracy: {metrics['test_accuracy']:.4f}  ({metrics['n_test']} test images)")
    typer.echo(f"metrics: {run_dir / 'metrics.json'}")
    typer.echo(f"plot:    {run_dir / 'curves.png'}")
