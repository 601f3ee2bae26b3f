"""The ``ketml`` command line: engines, OpenQASM runs, the demo, training and evaluation, IBM Quantum.

Heavy imports (torch, qiskit, the engines) happen inside the commands, so ``ketml --help``
answers at once. Expected failures (missing file, malformed OpenQASM, bad observable or
parameter, any ``KetmlError``) print one line ``ketml: error: ...`` on stderr and exit with
status 2, without a traceback.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .cli_errors import EXIT_USAGE, CliError, cli_errors
from .cli_errors import fail as _fail

__all__ = ["EXIT_USAGE", "CliError", "app", "cli_errors", "main"]

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
        from importlib.metadata import PackageNotFoundError, version

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


# --------------------------------------------------------------------------------- engines


def _devices() -> dict[str, str]:
    import torch

    devices = {"cpu": "ok"}
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        devices["cuda"] = "ok (" + ", ".join(f"cuda:{i} {n}" for i, n in enumerate(names)) + ")"
    else:
        devices["cuda"] = "no CUDA GPU visible to torch"
    return devices


@app.command()
def engines(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print a JSON object {engines: {name: status}, devices: {...}, gpu: {...}}."
        ),
    ] = False,
) -> None:
    """List the circuit engines ("ok" or why not), the torch devices, and each engine's GPU options."""
    from circuits import engines as engine_registry

    status = engine_registry.available()
    devices = _devices()
    gpu = engine_registry.gpu_available()
    if as_json:
        typer.echo(json.dumps({"engines": status, "devices": devices, "gpu": gpu}, indent=2))
        return
    width = max(len(n) for n in [*status, *devices, "engine"])
    typer.echo(f"{'engine':<{width}}  status")
    for name, state in status.items():
        typer.echo(f"{name:<{width}}  {state}")
    typer.echo("")
    typer.echo(f"{'device':<{width}}  status (torch engine: --device / device=...)")
    for name, state in devices.items():
        typer.echo(f"{name:<{width}}  {state}")
    typer.echo("")
    rows = [(name, option, state) for name, opts in gpu.items() for option, state in opts.items()]
    w_opt = max([len(o) for _, o, _ in rows] + [len("GPU option")])
    typer.echo(f"{'engine':<{width}}  {'GPU option':<{w_opt}}  status")
    for name, option, state in rows:
        typer.echo(f"{name:<{width}}  {option:<{w_opt}}  {state}")


# -------------------------------------------------------------------------------------- run

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


def _number(text: str) -> float:
    """A real number or a small arithmetic expression over numbers and pi/tau/e ("pi/2")."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id.lower() in _CONSTANTS:
            return _CONSTANTS[node.id.lower()]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        raise ValueError

    try:
        value = ev(ast.parse(text.strip(), mode="eval"))
    except (SyntaxError, ValueError, TypeError, ZeroDivisionError, OverflowError):
        raise CliError(f"{text.strip()!r} is not a number (use e.g. 0.5, -1e-3, pi/2, 2*pi/3)") from None
    if not math.isfinite(value):
        raise CliError(f"{text.strip()!r} is not a finite number")
    return value


def _parameter_groups(circuit) -> dict[str, int | None]:
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


def _parameter_values(circuit, specs: list[str]) -> dict[str, Any] | None:
    """Turn ``--param name=value`` / ``--param vec=v0,v1,...`` into circuit parameter values."""
    groups = _parameter_groups(circuit)
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
        values = [_number(v) for v in rest.split(",")]
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


def _check_observable(label: str, n_qubits: int) -> str:
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


def _engine_options(engine: str, device: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if engine in ("torch", "auto"):
        options["dtype"] = "complex128"  # small circuits: report double-precision numbers
    if device is not None:
        if engine not in ("torch", "auto"):
            raise CliError("--device applies to the torch engine only")
        options["device"] = device
    return options


def _load_qasm(file: Path):
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


def _execute(
    file: Path,
    shots: int | None,
    observables: list[str],
    engine: str,
    device: str | None,
    seed: int | None,
    params: list[str],
) -> dict[str, Any]:
    from circuits import expval, sample

    if shots is not None and shots < 1:
        raise CliError(f"--shots must be a positive integer, got {shots}")
    circuit = _load_qasm(file)
    labels = [_check_observable(o, circuit.num_qubits) for o in observables]
    values = _parameter_values(circuit, params)
    options = _engine_options(engine, device)
    result: dict[str, Any] = {
        "file": str(file),
        "num_qubits": circuit.num_qubits,
        "num_clbits": circuit.num_clbits,
        "engine": engine,
        "parameters": values or {},
    }
    if labels:
        exp = expval(circuit, labels, values, engine=engine, shots=shots, seed=seed, **options)
        result["shots"] = shots
        result["expectation_values"] = {
            label: float(v) for label, v in zip(labels, exp[0].detach().cpu().tolist(), strict=True)
        }
    else:
        n_shots = 1024 if shots is None else shots
        counts = sample(circuit, values, shots=n_shots, engine=engine, seed=seed, **options)[0]
        result["shots"] = n_shots
        result["seed"] = seed
        result["counts"] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return result


def _print_result(result: dict[str, Any]) -> None:
    head = f"{result['file']}: {result['num_qubits']} qubit(s), engine {result['engine']}"
    if "expectation_values" in result:
        shots = result["shots"]
        typer.echo(head + (f", {shots} shots" if shots else ", exact"))
        width = max(len(k) for k in result["expectation_values"])
        for label, value in result["expectation_values"].items():
            typer.echo(f"<{label}>{'':<{width - len(label)}} = {value: .10f}")
        return
    shots = result["shots"]
    typer.echo(head + f", {shots} shots (qubit 0 / bit 0 right-most)")
    counts = result["counts"]
    width = max((len(k) for k in counts), default=0)
    for bits, n in counts.items():
        typer.echo(f"{bits:>{width}}  {n:>{len(str(shots))}}  {n / shots:.4f}")


@app.command()
def run(
    file: Annotated[
        Path,
        typer.Argument(help="OpenQASM 2 or 3 file (the version is read from its header)."),
    ],
    shots: Annotated[
        int | None,
        typer.Option(
            "--shots",
            "-s",
            help=(
                "Number of measurement shots. Sampling uses 1024 when not given; with "
                "--observable, expectation values are exact unless --shots is given."
            ),
        ),
    ] = None,
    observable: Annotated[
        list[str] | None,
        typer.Option(
            "--observable",
            "-o",
            help=(
                "Pauli label to measure, one letter (I, X, Y, Z) per qubit, qubit 0 right-most, "
                "e.g. ZZI. Repeat for several. Prints expectation values instead of counts."
            ),
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help=(
                "Value of a free circuit parameter: name=value, or name=v0,v1,... for a "
                "parameter vector (values may use pi, e.g. theta=pi/2). Repeat for several; "
                "every free parameter needs one."
            ),
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            "-e",
            help="Engine to run on (see 'ketml engines'); 'auto' is torch on the GPU if any.",
        ),
    ] = "torch",
    device: Annotated[
        str | None,
        typer.Option("--device", help="Torch device for the torch engine: cpu, cuda, cuda:1."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Random seed for sampling, so counts are reproducible."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the result as one JSON object."),
    ] = False,
) -> None:
    """Run an OpenQASM file: measurement counts, or expectation values with --observable."""
    with cli_errors():
        result = _execute(file, shots, observable or [], engine, device, seed, param or [])
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        _print_result(result)


# ------------------------------------------------------------------------------------- demo


@app.command()
def demo(
    epochs: Annotated[
        int | None,
        typer.Option(help="Training epochs (default 30, or 6 with --quick).", min=1),
    ] = None,
    qubits: Annotated[
        int | None,
        typer.Option(help="Qubits of the quantum layer, 4 to 8 (default 6).", min=4, max=8),
    ] = None,
    layers: Annotated[
        int | None,
        typer.Option(help="Strongly entangling layers of the circuit (default 4).", min=1),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(help="Seed of the data split, initial weights and batch order."),
    ] = 0,
    out: Annotated[
        Path,
        typer.Option(help="Folder in which the run folder demo-<timestamp>/ is created."),
    ] = Path("runs"),
    engine: Annotated[
        str,
        typer.Option(help="Engine of the quantum layer (see 'ketml engines'); 'auto' uses a GPU."),
    ] = "torch",
    quick: Annotated[
        bool,
        typer.Option("--quick", help="6 epochs on a 500-image subset: checks the pipeline in seconds."),
    ] = False,
    progress: Annotated[
        bool,
        typer.Option("--progress/--no-progress", help="Show a progress bar per epoch."),
    ] = True,
) -> None:
    """Train a hybrid CNN + quantum classifier on scikit-learn's digits (offline).

    Writes metrics.json and training_curve.png into OUT/demo-<timestamp>/.
    """
    from circuits.errors import KetmlError

    from . import demo as demo_module

    try:
        metrics = demo_module.run(
            epochs=epochs,
            qubits=qubits,
            seed=seed,
            out=out,
            engine=engine,
            quick=quick,
            layers=layers,
            progress=progress,
        )
    except (KetmlError, ValueError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write the run folder under {out}: {exc.strerror or exc}")
    typer.echo(f"test accuracy: {metrics['test_accuracy']:.4f}")
    typer.echo(f"metrics: {Path(metrics['run_dir']) / 'metrics.json'}")
    typer.echo(f"plot:    {Path(metrics['run_dir']) / 'training_curve.png'}")


# -------------------------------------------------------------------------------------- ibm

from .cli_chem import chem_app  # noqa: E402
from .cli_ibm import ibm_app  # noqa: E402  (after the helpers it uses)
from .cli_train import datasets as _datasets_cmd  # noqa: E402
from .cli_train import evaluate as _evaluate_cmd  # noqa: E402
from .cli_train import train as _train_cmd  # noqa: E402

app.add_typer(ibm_app, name="ibm")
app.add_typer(chem_app, name="chem")
app.command("train")(_train_cmd)
app.command("evaluate")(_evaluate_cmd)
app.command("datasets")(_datasets_cmd)


def main(argv: list[str] | None = None) -> None:
    """Console entry point (``ketml``)."""
    app(args=argv, prog_name="ketml")


if __name__ == "__main__":
    main(sys.argv[1:])
