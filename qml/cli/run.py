"""``ketml run``: run a circuit file (OpenQASM 2/3 or Python) and print counts or expectation values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .app import app
from .common import CliError, check_seed, cli_errors, engine_options, load_circuit


def _plain(values: Any) -> Any:
    """Parameter values as JSON-ready numbers (a .py file may give arrays, tensors or Parameters)."""
    if isinstance(values, dict):
        return {str(getattr(k, "name", k)): _plain(v) for k, v in values.items()}
    if hasattr(values, "tolist"):
        return values.tolist()
    if isinstance(values, (list, tuple)):
        return [_plain(v) for v in values]
    return values


def _execute(
    file: Path,
    shots: int | None,
    observables: list[str],
    engine: str,
    device: str | None,
    seed: int | None,
    params: list[str],
) -> dict[str, Any]:
    from circuits import engines, expval, sample

    if shots is not None and shots < 1:
        raise CliError(f"--shots must be a positive integer, got {shots}")
    check_seed(seed)
    circuit, ops, labels, values = load_circuit(file, observables, params)
    options = engine_options(engine, device)
    result: dict[str, Any] = {
        "file": str(file),
        "num_qubits": circuit.num_qubits,
        "num_clbits": circuit.num_clbits,
        "engine": engine,
        "parameters": _plain(values) or {},
    }
    if ops:
        exp = expval(circuit, ops, values, engine=engine, shots=shots, seed=seed, **options)
        result["shots"] = shots
        caps = engines.capabilities_of(engine)
        result["exact"] = shots is None and (caps is None or caps.exact)
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
        if shots:
            head += f", {shots} shots"
        else:
            head += ", exact" if result["exact"] else ", the engine's default shots"
        typer.echo(head)
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
        typer.Argument(
            help=(
                "OpenQASM 2 or 3 file (the version is read from its header), or a .py file "
                "defining 'circuit' (and optionally 'observables', 'parameters')."
            )
        ),
    ],
    shots: Annotated[
        int | None,
        typer.Option(
            "--shots",
            "-s",
            help=(
                "Number of measurement shots. Sampling uses 1024 when not given; with "
                "--observable, expectation values are exact unless --shots is given (on an "
                "engine that computes exact values; see 'ketml engines')."
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
    """Run an OpenQASM (or .py) circuit file: measurement counts, or expectation values with --observable."""
    with cli_errors():
        result = _execute(file, shots, observable or [], engine, device, seed, param or [])
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        _print_result(result)
