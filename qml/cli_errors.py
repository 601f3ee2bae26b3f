"""How every ``ketml`` verb reports an expected failure: one line on stderr, exit status 2.

Its own module so that the verbs' modules (``cli``, ``cli_train``, ``cli_ibm``) share it without
importing each other (``python -m qml.cli`` would otherwise import ``qml.cli`` twice).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NoReturn

import typer

EXIT_USAGE = 2


class CliError(Exception):
    """An expected failure: reported as one line on stderr, exit status 2."""


def fail(message: str) -> NoReturn:
    typer.echo(f"ketml: error: {message}", err=True)
    raise typer.Exit(code=EXIT_USAGE)


@contextlib.contextmanager
def cli_errors() -> Iterator[None]:
    """Turn expected failures (``CliError``, ``KetmlError``) into one line on stderr, exit status 2."""
    from circuits.errors import KetmlError

    try:
        yield
    except (CliError, KetmlError) as exc:
        fail(str(exc))
