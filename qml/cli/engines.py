"""``ketml engines``: which circuit engines and torch devices work here, and what each engine can do."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer

from .app import app


def _devices() -> dict[str, str]:
    import torch

    devices = {"cpu": "ok"}
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        devices["cuda"] = "ok (" + ", ".join(f"cuda:{i} {n}" for i, n in enumerate(names)) + ")"
    else:
        devices["cuda"] = "no CUDA GPU visible to torch"
    return devices


def _cell(value: object) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def _capability_table(capabilities: dict[str, dict[str, object]], width: int) -> None:
    """One row per engine: state vector, mid-circuit operations, exact values, gradient method, ..."""
    fields = list(dict.fromkeys(f for caps in capabilities.values() for f in caps))
    heads = [f.replace("_", "-") for f in fields]
    rows = [[_cell(caps.get(f, "-")) for f in fields] for caps in capabilities.values()]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]
    line = "  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))
    typer.echo(f"{'engine':<{width}}  {line}".rstrip())
    for name, row in zip(capabilities, rows, strict=True):
        cells = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
        typer.echo(f"{name:<{width}}  {cells}".rstrip())


@app.command()
def engines(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help=(
                "Print a JSON object {engines: {name: status}, capabilities: {name: {...}}, "
                "devices: {...}, gpu: {...}}."
            ),
        ),
    ] = False,
) -> None:
    """List the circuit engines ("ok" or why not) and what each can do, the torch devices, and each
    engine's GPU options."""
    from circuits import engines as engine_registry

    status = engine_registry.available()
    capabilities = {name: dataclasses.asdict(c) for name, c in engine_registry.capabilities().items()}
    devices = _devices()
    gpu = engine_registry.gpu_available()
    if as_json:
        out = {"engines": status, "capabilities": capabilities, "devices": devices, "gpu": gpu}
        typer.echo(json.dumps(out, indent=2))
        return
    width = max(len(n) for n in [*status, *devices, "engine"])
    typer.echo(f"{'engine':<{width}}  status")
    for name, state in status.items():
        typer.echo(f"{name:<{width}}  {state}")
    typer.echo("")
    _capability_table(capabilities, width)
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
