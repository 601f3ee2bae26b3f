"""The root ``ketml`` typer app: every command module registers its commands on it.

Kept free of heavy imports (torch, qiskit, the engines) so that ``ketml --help`` answers at once.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(
    name="ketml",
    help=(
        "ketml: quantum machine learning toolkit. Qiskit circuits in, torch tensors out, "
        "on a fast built-in simulator or other engines."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"ketml {version('ketml')}")
        except PackageNotFoundError:
            typer.echo("ketml (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print ketml's version and exit."),
    ] = False,
) -> None:
    """ketml: quantum machine learning toolkit (circuits, engines, models)."""
