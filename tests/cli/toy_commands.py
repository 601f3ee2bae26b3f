"""A command group registered from outside ketml, as a ``ketml.commands`` entry point would be.

Like ``chemistry.cli`` it imports :mod:`qml.cli.common` first, so importing it before ``qml.cli``
makes ``qml.cli`` load the entry points while this module is still half imported.
"""

import typer

from circuits.errors import DataError
from qml.cli.common import cli_errors

app = typer.Typer(help="A toy command group.")


@app.command()
def hello(name: str = "world") -> None:
    """Greet NAME."""
    typer.echo(f"hello {name}")


@app.command()
def broken() -> None:
    """Fail the way a command fails on bad input."""
    with cli_errors():
        raise DataError("the toy data set is empty")
