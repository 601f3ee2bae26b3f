"""``ketml generate dataset``: the Agent-Q dataset of QAOA/VQE circuits for graph problems.

``ketml generate dataset --problems maxcut,vertex-cover --nodes 4-8 --out DIR`` optimises every
(problem, random graph, method) and appends its record to ``DIR/records.jsonl``; run it again to
resume an interrupted build. ``--workers N`` optimises batches in N processes, ``--dask ADDRESS``
on the workers of a Dask scheduler.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from .common import CliError, cli_errors
from .generate import generate_app


def _ints(text: str, what: str) -> list[int]:
    """``"4-8"`` or ``"1,3,5"`` (or a mix) as a list of integers; ``""`` is empty."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        lo, _, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise CliError(f"{what}: {part!r} is not an integer or a range like 4-8") from None
        if last < first:
            raise CliError(f"{what}: the range {part!r} is empty (write it low-high, e.g. {last}-{first})")
        out += list(range(first, last + 1))
    return out


@contextmanager
def _executor(workers: int, dask: str | None) -> Iterator:
    """None (this process), a process pool of ``workers``, or a Dask client of ``dask``."""
    if dask is not None:
        try:
            from distributed import Client
        except ImportError:
            raise CliError("--dask needs the 'distributed' package (pip install distributed)") from None
        try:
            client = Client(dask, timeout=10)
        except OSError as exc:
            raise CliError(f"no Dask scheduler at {dask}: {exc}") from None
        with client:
            yield client
    elif workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            yield pool
    else:
        yield None


@generate_app.command("dataset")
def dataset(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of records.jsonl (resumed if present).")],
    problems: Annotated[str, typer.Option(help="Comma-separated problems, or 'all'.")] = "maxcut",
    nodes: Annotated[str, typer.Option(help="Node counts, e.g. 4-8 or 4,6.")] = "4-6",
    instances: Annotated[int, typer.Option(help="Random graphs per problem and node count.", min=1)] = 3,
    qaoa_layers: Annotated[str, typer.Option(help="QAOA depths p, e.g. 1-4; '' for none.")] = "1-4",
    vqe_ansatze: Annotated[str, typer.Option(help="Sim et al. ansatz ids, e.g. 1,3-7; '' for none.")] = "",
    vqe_layers: Annotated[str, typer.Option(help="VQE layer counts, e.g. 1-4.")] = "1",
    adaptive: Annotated[
        bool, typer.Option("--adaptive", help="Add adaptive VQE (slow: one instance at a time).")
    ] = False,
    steps: Annotated[int, typer.Option(help="Step budget per start (paper: 500).", min=1)] = 500,
    lr: Annotated[float, typer.Option(help="Adam learning rate (paper: 0.01).", min=0.0)] = 0.01,
    restarts: Annotated[int, typer.Option(help="Restarts of instances not solved (paper: 3).", min=0)] = 3,
    batch_size: Annotated[int, typer.Option(help="Instances optimised at once.", min=1)] = 16,
    workers: Annotated[
        int, typer.Option(help="Processes that optimise batches at once (1: this process).", min=1)
    ] = 1,
    dask: Annotated[
        str | None,
        typer.Option(help="Address of a Dask scheduler (tcp://host:8786) whose workers optimise batches."),
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar.")] = True,
) -> None:
    """Build (or resume) a dataset of optimised QAOA/VQE circuits as JSON lines."""
    with cli_errors():
        from qml.generators.llm import PROBLEMS, Method, build_dataset, tasks

        names = (
            sorted(PROBLEMS) if problems == "all" else [p.strip() for p in problems.split(",") if p.strip()]
        )
        if not names:
            raise CliError("--problems: no problem given; name some (maxcut,vertex-cover) or 'all'")
        unknown = [p for p in names if p not in PROBLEMS]
        if unknown:
            raise CliError(f"unknown problems {', '.join(unknown)}; known: {', '.join(sorted(PROBLEMS))}")
        methods = [Method("qaoa", p) for p in _ints(qaoa_layers, "--qaoa-layers")]
        methods += [
            Method("vqe", n, a)
            for a in _ints(vqe_ansatze, "--vqe-ansatze")
            for n in _ints(vqe_layers, "--vqe-layers")
        ]
        if adaptive:
            methods.append(Method("adaptive", 1))
        if not methods:
            raise CliError("no method: give --qaoa-layers, --vqe-ansatze or --adaptive")
        node_counts = _ints(nodes, "--nodes")
        if not node_counts:
            raise CliError("--nodes: no node count given, e.g. 4-8 or 4,6")
        todo = tasks(names, node_counts, range(instances), methods)
        path = out / "records.jsonl"
        with _executor(workers, dask) as executor:
            counts = build_dataset(
                todo,
                path,
                batch_size=batch_size,
                steps=steps,
                lr=lr,
                restarts=restarts,
                executor=executor,
                progress=progress,
            )
    typer.echo(
        f"{counts['written']} records written to {path} ({counts['existing']} already there, "
        f"{counts['too_large']} instances above the qubit limit skipped)"
    )
