"""The ``ketml`` command line: one module per command group, plus the groups other packages register.

Every module of this package registers its commands on the root app (:mod:`qml.cli.app`), so
adding a command is adding one file here. Packages outside ``qml`` (``chemistry`` for
``ketml chem``) register a typer app under the ``ketml.commands`` entry-point group
(``name = "module:app"``). Heavy imports (torch, qiskit, the engines) happen inside the commands.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from importlib.metadata import entry_points

import typer

from .app import app
from .common import EXIT_USAGE, CliError, cli_errors, fail

__all__ = ["EXIT_USAGE", "CliError", "app", "cli_errors", "fail", "load_commands", "main"]

ENTRY_POINT_GROUP = "ketml.commands"

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

_loaded: set[str] = set()


def _add_broken(name: str, target: str, exc: BaseException) -> None:
    """Stand in for an entry point that failed to load: ``ketml <name> ...`` says why, in one line."""
    message = f"the command group {name!r} ({target}) failed to load: {type(exc).__name__}: {exc}"

    @app.command(
        name,
        help=f"(unavailable: {message})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    def _unavailable() -> None:
        fail(message)


def load_commands() -> None:
    """Add the typer apps registered under ``ketml.commands`` that are not added yet.

    One whose module is still being imported (it imported this package first) is left for the
    next call; :func:`main` calls this again before running.
    """
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _loaded:
            continue
        module = sys.modules.get(ep.module)
        if module is not None and getattr(getattr(module, "__spec__", None), "_initializing", False):
            continue  # partially imported: it is importing qml.cli right now
        _loaded.add(ep.name)
        try:
            sub = ep.load()
            if not isinstance(sub, typer.Typer):
                raise TypeError(f"{ep.value} is a {type(sub).__name__}, not a typer.Typer")
        except Exception as exc:  # a broken plug-in must not take the other commands down
            _add_broken(ep.name, ep.value, exc)
        else:
            app.add_typer(sub, name=ep.name)


load_commands()


def main(argv: list[str] | None = None) -> None:
    """Console entry point (``ketml``)."""
    load_commands()
    app(args=argv, prog_name="ketml")
