"""What every ``ketml`` command shares: error reporting, number/parameter/observable parsing, and
loading a circuit from an OpenQASM (``.qasm``) or Python (``.py``) file.

Expected failures are instances of :class:`~circuits.errors.KetmlError` (a :class:`CliError` for
those found by the command line itself): :func:`cli_errors` prints them as one line
``ketml: error: ...`` on stderr and exits with status 2. Any other exception is a bug and keeps
its traceback.
"""

from __future__ import annotations

import ast
import contextlib
import math
import operator
import runpy
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import typer

from circuits.errors import KetmlError

__all__ = [
    "EXIT_USAGE",
    "CliError",
    "LoadedCircuit",
    "check_observable",
    "check_seed",
    "cli_errors",
    "engine_options",
    "fail",
    "load_circuit",
    "load_python",
    "load_qasm",
    "number",
    "op_label",
    "parameter_groups",
    "parameter_values",
]

EXIT_USAGE = 2


class CliError(KetmlError):
    """A failure found by the command line itself (bad option, missing file): one line, exit 2."""


def fail(message: str) -> NoReturn:
    """Print ``ketml: error: <message>`` on stderr and exit with status 2."""
    typer.echo(f"ketml: error: {message}", err=True)
    raise typer.Exit(code=EXIT_USAGE)


@contextlib.contextmanager
def cli_errors() -> Iterator[None]:
    """Turn a :class:`KetmlError` into one line on stderr and exit status 2 (or the error's own
    ``exit_code``, with its ``label``); other errors propagate."""
    try:
        yield
    except KetmlError as exc:
        code = getattr(exc, "exit_code", EXIT_USAGE)  # e.g. 130: training stopped by Ctrl-C
        if code != EXIT_USAGE:
            typer.echo(f"ketml: {getattr(exc, 'label', 'error')}: {exc}", err=True)
            raise typer.Exit(code=code) from None
        fail(str(exc))


# ------------------------------------------------------------------------------------ numbers

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_CONSTANTS = {"pi": math.pi, "tau": math.tau, "e": math.e}


def number(text: str) -> float:
    """A real number or a small arithmetic expression over numbers and pi/tau/e ("pi/2")."""
    shown = text.strip()
    bad = CliError(f"{shown!r} is not a number (use e.g. 0.5, -1e-3, pi/2, 2*pi/3)")

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id.lower() in _CONSTANTS:
            return _CONSTANTS[node.id.lower()]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        raise bad

    try:
        tree = ast.parse(shown, mode="eval")
    except SyntaxError:
        raise bad from None
    try:
        value = ev(tree)
    except ArithmeticError:  # division by zero, overflow
        raise bad from None
    if not isinstance(value, float):  # e.g. (-8)**(1/3) is complex
        raise bad
    if not math.isfinite(value):
        raise CliError(f"{shown!r} is not a finite number")
    return value


# --------------------------------------------------------------------------------- parameters


def parameter_groups(circuit) -> dict[str, int | None]:
    """Circuit parameter names: vector name -> length, plain parameter name -> None."""
    from qiskit.circuit import ParameterVectorElement

    groups: dict[str, int | None] = {}
    for p in circuit.parameters:
        if isinstance(p, ParameterVectorElement):
            groups[p.vector.name] = max(groups.get(p.vector.name) or 0, p.index + 1)
        else:
            groups[p.name] = None
    return groups


def _describe(groups: dict[str, int | None]) -> str:
    return ", ".join(name if n is None else f"{name}[{n}]" for name, n in groups.items())


def parameter_values(circuit, specs: Sequence[str]) -> dict[str, Any] | None:
    """Turn ``--param name=value`` / ``--param vec=v0,v1,...`` into circuit parameter values."""
    groups = parameter_groups(circuit)
    given: dict[str, Any] = {}
    for spec in specs:
        name, sep, rest = spec.partition("=")
        name = name.strip()
        if not sep or not name or not rest.strip():
            raise CliError(f"--param {spec!r}: write name=value or vector=v0,v1,...")
        if name not in groups:
            known = _describe(groups) if groups else "none"
            raise CliError(f"--param {name}: the circuit has no parameter {name!r} (it has: {known})")
        if name in given:
            raise CliError(f"--param {name} is given twice")
        values = [number(v) for v in rest.split(",")]
        length = groups[name]
        if length is None:
            if len(values) != 1:
                raise CliError(f"--param {name}: {name!r} is one number, got {len(values)} values")
            given[name] = values[0]
        else:
            if len(values) != length:
                raise CliError(
                    f"--param {name}: vector {name!r} has {length} entries, got {len(values)} "
                    f"values (write {name}=v0,...,v{length - 1})"
                )
            given[name] = values
    missing = [n for n in groups if n not in given]
    if missing:
        shown = _describe({n: groups[n] for n in missing})
        raise CliError(
            f"the circuit has unbound parameters ({shown}); give values with --param name=value "
            "(vectors: --param name=v0,v1,...)"
        )
    return given or None


# -------------------------------------------------------------------------------- observables


def check_observable(label: str, n_qubits: int) -> str:
    """A Pauli label checked against the circuit's width, upper-cased (qubit 0 right-most)."""
    text = label.strip().upper()
    if not text or any(c not in "IXYZ" for c in text):
        raise CliError(
            f"bad observable {label!r}: write a Pauli label of I, X, Y, Z with one letter per "
            "qubit, qubit 0 right-most (e.g. ZZI)"
        )
    if len(text) != n_qubits:
        raise CliError(
            f"observable {label!r} has {len(text)} letter(s) but the circuit has {n_qubits} "
            f"qubit(s); write one letter per qubit, qubit 0 right-most"
        )
    return text


def op_label(op) -> str:
    """A SparsePauliOp as text: its Pauli label when it is one term with coefficient 1."""
    terms = op.to_list()
    if len(terms) == 1 and complex(terms[0][1]) == 1:
        return terms[0][0]
    return " + ".join(f"{complex(c).real:g}*{label}" for label, c in terms)


MAX_SEED = 2**63 - 1  # the widest range every engine's random generator accepts


def check_seed(seed: int | None) -> int | None:
    """``--seed`` checked against the range that every engine accepts (0 to 2**63 - 1)."""
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise CliError(f"--seed must be an integer from 0 to {MAX_SEED}, got {seed}")
    return seed


def engine_options(engine: str, device: str | None) -> dict[str, Any]:
    """Engine options from ``--engine``/``--device``: double precision for the torch engine."""
    options: dict[str, Any] = {}
    if engine in ("torch", "auto"):
        options["dtype"] = "complex128"  # small circuits: report double-precision numbers
    if device is not None:
        if engine not in ("torch", "auto"):
            raise CliError("--device applies to the torch engine only")
        import torch

        try:
            torch.device(device)
        except RuntimeError:  # torch's own message lists every device type it knows
            raise CliError(f"--device {device!r} is not a torch device; use cpu, cuda or cuda:N") from None
        options["device"] = device
    return options


# ----------------------------------------------------------------------------- circuit files


def load_qasm(file: Path):
    """The circuit in an OpenQASM 2/3 file; a :class:`CliError` naming the file (and line/column)."""
    from circuits import errors, qasm

    try:
        return qasm.load(file)
    except errors.QasmError as exc:
        raise CliError(f"{file}: {exc}") from None
    except IsADirectoryError:
        raise CliError(f"{file} is a folder, not an OpenQASM file") from None
    except FileNotFoundError:
        raise CliError(f"no such file: {file}") from None
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror or exc}") from None


def load_python(file: Path) -> tuple[Any, Any, Any]:
    """``circuit``, ``observables`` and ``parameters`` defined by a Python file (the last two may be None)."""
    from qiskit import QuantumCircuit

    if not file.is_file():
        raise CliError(f"no such file: {file}")
    try:
        namespace = runpy.run_path(str(file), run_name="__ketml_circuit__")
    except SystemExit as exc:
        raise CliError(f"{file} called exit({exc.code}) while defining the circuit") from None
    except Exception as exc:  # the user's script failed: name the file and the error, no traceback
        raise CliError(f"{file} failed: {type(exc).__name__}: {exc}") from None
    circuit = namespace.get("circuit")
    if not isinstance(circuit, QuantumCircuit):
        found = "nothing" if circuit is None else type(circuit).__name__
        raise CliError(
            f"{file} must define a module-level 'circuit' (a qiskit QuantumCircuit); found {found}"
        )
    return circuit, namespace.get("observables"), namespace.get("parameters")


class LoadedCircuit(NamedTuple):
    """A circuit read from a file, with the observables and parameter values to run it with."""

    circuit: Any  # qiskit.QuantumCircuit
    observables: list  # SparsePauliOp, one per label; empty: sample the circuit
    labels: list[str]
    parameter_values: Any  # dict name -> value(s), the .py file's ``parameters``, or None


def load_circuit(file: Path, observables: Sequence[str] = (), params: Sequence[str] = ()) -> LoadedCircuit:
    """Load a ``.qasm`` (OpenQASM 2/3) or ``.py`` circuit file for a command.

    A ``.py`` file defines ``circuit`` and optionally ``observables`` and ``parameters``;
    ``--observable`` labels replace the file's observables and ``--param`` values its parameters.
    """
    from circuits.observables import as_observables

    file_obs = file_params = None
    if file.suffix == ".py":
        circuit, file_obs, file_params = load_python(file)
    else:
        circuit = load_qasm(file)
    if observables:
        labels = [check_observable(o, circuit.num_qubits) for o in observables]
        ops = as_observables(labels, circuit.num_qubits)
    elif file_obs is not None:
        ops = as_observables(file_obs, circuit.num_qubits)
        labels = [op_label(o) for o in ops]
    else:
        ops, labels = [], []
    if file_params is not None and not params:
        values = file_params
    else:
        values = parameter_values(circuit, params)
    return LoadedCircuit(circuit, list(ops), labels, values)
