"""``ketml train``, ``ketml evaluate`` and ``ketml datasets``: the shared trainer on the command line.

Expected failures (unknown model or dataset, missing data files, bad options) print one line
``ketml: error: ...`` and exit with status 2, like every other ``ketml`` verb.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .cli_errors import CliError, cli_errors


def _model_options(specs: list[str]) -> dict[str, Any]:
    """``--option name=value`` pairs; values are Python literals (3, 0.5, 'Z', [1, 2]) or strings."""
    options: dict[str, Any] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name.strip().isidentifier():
            raise CliError(f"--option {spec!r}: write name=value, e.g. --option n_layers=1")
        try:
            options[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            options[name.strip()] = value.strip()
    return options


def _headline(metrics: dict[str, Any]) -> str:
    """The run's main number: test accuracy, test MSE or mean return, with size and speed."""
    if "mean_return" in metrics:
        head = f"mean return: {metrics['mean_return']:.3f} over {metrics['eval_episodes']} episodes"
    elif "test_mse" in metrics:
        head = f"test MSE: {metrics['test_mse']:.3e}"
    else:
        head = f"test accuracy: {metrics.get('test_accuracy', float('nan')):.4f}"
    timing = (
        f", {metrics['seconds_per_epoch']:.1f} s/epoch"
        if "seconds_per_epoch" in metrics
        else f", {metrics.get('train_seconds', 0):.0f} s training"
    )
    return f"{head}  ({metrics['n_parameters']} parameters{timing})"


def _list_models() -> None:
    from . import registry

    rows = [(n, registry.get(n)) for n in registry.names()]
    width = max(len(n) for n, _ in rows)
    typer.echo(f"{'model':<{width}}  {'task':<20}  description")
    for name, spec in rows:
        typer.echo(f"{name:<{width}}  {spec.task:<20}  {spec.description}")


def train(
    model: Annotated[str | None, typer.Argument(help="Registered model name (see --list).")] = None,
    list_models: Annotated[bool, typer.Option("--list", help="List the registered models and exit.")] = False,
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset",
            "-d",
            help="Images (hybrid classifiers): mnist, fashion-mnist, cifar10, cifar100, stl10, digits. "
            "Sequences (qrnn, qlstm, qfwp): damped-shm, bessel-j2, narma5, narma10, delayed-control, "
            "elman-xor, elman-letter, mnist-pixels-01, mnist-pixels-36; RL: cartpole, "
            "minigrid-empty-5x5, minigrid-empty-6x6, minigrid-doorkey-5x5.",
        ),
    ] = "mnist",
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: the model's).", min=1)] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Mini-batch size (default: the model's).", min=1)
    ] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate (default: the model's).")] = None,
    optimizer: Annotated[str | None, typer.Option(help="adam, adamw or sgd (default: the model's).")] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="none, cosine, onecycle, cosine-restarts or step (default: the model's)."),
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
        str | None, typer.Option(help="none or affine (random rotation/shift per batch).")
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", "-e", help="Engine of the quantum layers (see 'ketml engines').")
    ] = "torch",
    device: Annotated[str, typer.Option(help="Torch device: cpu, cuda, cuda:1.")] = "cpu",
    subset: Annotated[
        int | None,
        typer.Option(help="Train on this many images (stratified); 0: the whole set; default: the model's."),
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
        str | None, typer.Option(help="Folder holding the dataset's files (default: $KETML_DATA/<dataset>).")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option", "-O", help="Model option name=value, e.g. -O n_layers=1 -O readout='Z'. Repeatable."
        ),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bars per epoch.")
    ] = True,
) -> None:
    """Train a registered model; writes run.json, model.pt, checkpoint.pt, metrics.json and plots."""
    if list_models:
        _list_models()
        return
    with cli_errors():
        if model is None and resume is None:
            raise CliError("name a model (ketml train --list shows them) or give --resume RUN")
        from . import registry
        from .training.experiment import train_model

        if model is not None:
            try:
                registry.get(model)
            except KeyError as exc:
                raise CliError(exc.args[0]) from None
        try:
            run_dir, metrics = train_model(
                model or "",
                dataset,
                out=out,
                engine=engine,
                subset=subset,
                test_subset=test_subset,
                seed=seed,
                progress=progress,
                resume=resume,
                data_root=data_root,
                model_options=_model_options(option or []),
                epochs=epochs,
                batch_size=batch_size,
                lr=lr,
                optimizer=optimizer,
                scheduler=scheduler,
                weight_decay=weight_decay,
                patience=patience,
                val_fraction=val_fraction,
                augment=augment,
                device=device,
            )
        except (ValueError, KeyError, FileNotFoundError, FloatingPointError) as exc:
            raise CliError(str(exc.args[0] if isinstance(exc, KeyError) else exc)) from None
    typer.echo(_headline(metrics))
    typer.echo(f"run folder: {run_dir}")


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
    with cli_errors():
        from .training.experiment import evaluate_run

        try:
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
        except (ValueError, KeyError, FileNotFoundError) as exc:
            raise CliError(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(entry, indent=2))
        return
    typer.echo(f"clean accuracy:  {entry['clean_accuracy']:.4f}  ({entry['n_test']} test images)")
    if "robust_accuracy" in entry:
        typer.echo(f"robust accuracy: {entry['robust_accuracy']:.4f}  ({attack}, eps={eps})")


def datasets(
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """List the image datasets, their files, where they are looked for, and whether they are there."""
    from . import datasets as catalogue

    rows = catalogue.describe()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    typer.echo(f"data folder: {catalogue.data_home()}  (set KETML_DATA to change it)")
    for row in rows:
        typer.echo(f"{row['dataset']:<14} {row['file']:<32} {row['status']:<10} {row['folder']}")
