"""Exception types of ketml: each names the problem so a user can fix it.

:class:`KetmlError` is the base of every error the toolkit raises on purpose; the CLI catches it
alone and prints one line. Each subclass also derives from the built-in type callers expect
(``ValueError``, ``KeyError``, ...), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class KetmlError(Exception):
    """Base class of every error ketml raises on purpose."""


class ConfigurationError(KetmlError, ValueError):
    """An option, setting or combination of them is invalid (training settings, model options)."""


class UnknownNameError(KetmlError, KeyError):
    """A name (model, dataset, engine, task, command) is not registered; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(KetmlError, ValueError):
    """A dataset is malformed, inconsistent or asked for in a way it cannot serve."""


class ChemistryError(KetmlError, ValueError):
    """A molecule, active space, ansatz or spectroscopy setting is invalid."""


class ParameterError(KetmlError, ValueError):
    """Parameter values do not match the circuit (count, shape, names, unbound)."""


class ObservableError(KetmlError, ValueError):
    """An observable is malformed or does not match the circuit's width."""


class UnsupportedOperationError(KetmlError, NotImplementedError):
    """The circuit holds an instruction the chosen engine cannot run."""


class MemoryLimitError(KetmlError, MemoryError):
    """The simulation would need more memory than is available."""


class LoopLimitError(KetmlError, RuntimeError):
    """A classical ``while`` loop was still running when it reached its iteration cap."""


class EngineUnavailableError(KetmlError, RuntimeError):
    """The engine (or its device / target) is not usable on this machine."""


class QasmError(KetmlError, ValueError):
    """Malformed OpenQASM; carries the 1-based ``line`` and ``column`` when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.line = line
        self.column = column
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"{message}{where}")
