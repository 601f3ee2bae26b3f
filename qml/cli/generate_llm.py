"""``ketml generate llm``: circuits from a fine-tuned LLM circuit generator (``ketml train llm-circuits``).

``--records FILE`` answers the prompt of every record of a dataset file (held-out instances);
``--problem P --graph FILE|--nodes N`` makes one new instance (its reference solution optimised
with QAOA of ``--layers`` p, for the evaluation) and prints the generated circuit. Either way the
folder ``--out`` then holds one ``.qasm`` per record and the records: ``ketml evaluate-circuits``
scores it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import CliError, cli_errors
from .generate import generate_app


def read_graph(path: Path):
    """A graph from JSON (networkx node-link, or ``{"nodes": [...], "edges": [[u, v(, w)], ...]}``
    with graph attributes such as ``terminals``) or from an edge list (``u v [weight]`` lines)."""
    import networkx as nx

    try:
        text = path.read_text()
    except OSError as exc:
        raise CliError(f"cannot read the graph {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        lines = text.splitlines()
        for nodetype in (int, str):  # integer labels sort as numbers
            try:
                return _integer_labels(nx.parse_edgelist(lines, nodetype=nodetype, data=(("weight", float),)))
            except (TypeError, ValueError, IndexError) as exc:
                error = exc
        raise CliError(f"{path} is neither JSON nor an edge list of 'u v [weight]' lines ({error})") from None
    if not isinstance(data, dict) or "edges" not in data and "links" not in data:
        raise CliError(f"{path}: a JSON graph needs 'edges' (or networkx node-link data)")
    edges = data.get("edges", data.get("links"))
    try:
        if edges and isinstance(edges[0], dict):  # networkx node-link data
            links = "edges" if "edges" in data else "links"
            return _integer_labels(nx.node_link_graph(data, directed=False, multigraph=False, edges=links))
        g = nx.Graph()
        g.add_nodes_from(data.get("nodes", []))
        for e in edges:
            g.add_edge(e[0], e[1], **({"weight": e[2]} if len(e) > 2 else {}))
    except (TypeError, KeyError, IndexError, nx.NetworkXError) as exc:
        raise CliError(f"{path}: not a graph of nodes and [u, v(, weight)] edges ({exc!r})") from None
    g.graph.update({k: v for k, v in data.items() if k not in ("nodes", "edges", "directed", "multigraph")})
    return _integer_labels(g)


def _integer_labels(g):
    """``g`` with nodes ``0..n-1`` in sorted order (as the problems need), its node-naming graph
    attributes (``terminals``, ``hyperedges``, ``other``) renamed alike; says so when it renames."""
    import networkx as nx

    nodes = list(g.nodes)
    if sorted(nodes, key=repr) == list(range(len(nodes))):
        return g
    try:
        order = sorted(nodes)
    except TypeError:  # mixed label types
        order = sorted(nodes, key=repr)
    new = {v: i for i, v in enumerate(order)}
    h = nx.relabel_nodes(g, new)

    def rename(x):
        return [rename(y) for y in x] if isinstance(x, (list, tuple)) else new.get(x, x)

    for name in ("terminals", "hyperedges", "other"):
        if name in h.graph:
            h.graph[name] = rename(h.graph[name])
    typer.echo(
        "nodes renamed 0..n-1 in sorted order: " + ", ".join(f"{v}->{i}" for v, i in new.items()), err=True
    )
    return h


def _new_record(problem: str, graph, layers: int, seed: int) -> dict:
    """The record of a new instance: exact optimum and a QAOA reference solution (p = ``layers``)."""
    from qml.generators.llm import Method, build
    from qml.generators.llm.dataset import Task, make_record
    from qml.generators.llm.optimise import optimise

    inst = build(problem, graph)
    method = Method("qaoa", layers)
    task = Task(problem, graph.number_of_nodes(), seed, method)
    solution = optimise([inst], method, seeds=[seed])[0]
    record = make_record(task, inst, solution)
    record["key"] = f"{problem}/n{graph.number_of_nodes()}/given/{method.label}"
    return record


@generate_app.command("llm")
def llm(
    model: Annotated[Path, typer.Option("--model", "-m", help="Run folder of 'ketml train llm-circuits'.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the .qasm files and records.")] = Path(
        "generated"
    ),
    records: Annotated[
        Path | None, typer.Option(help="A records .jsonl: answer every record's prompt (held-out instances).")
    ] = None,
    problem: Annotated[str | None, typer.Option(help="Problem of a new instance (maxcut, ...).")] = None,
    graph: Annotated[
        Path | None, typer.Option(help="Graph of the new instance: JSON or an edge list ('u v [w]').")
    ] = None,
    nodes: Annotated[int | None, typer.Option(help="Or a random graph of this many nodes.", min=2)] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random graph and the reference solution.")] = 0,
    layers: Annotated[
        int, typer.Option(help="Layers asked for in the prompt (QAOA p of the reference).")
    ] = 1,
    constrained: Annotated[
        bool, typer.Option("--constrained", help="Grammar-constrained decoding: every answer parses.")
    ] = False,
    decoding: Annotated[
        str,
        typer.Option(
            help="Decoding: greedy (deterministic), or paper (the paper's implicit sampling: temperature"
            " 0.7, top-p 0.8, top-k 20, repetition penalty 1.05, seed 112)."
        ),
    ] = "greedy",
    max_tokens: Annotated[
        int | None, typer.Option(help="Most tokens per answer (default: what the context leaves).", min=1)
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N records.", min=1)] = None,
    device: Annotated[str, typer.Option(help="Torch device: cpu, cuda.")] = "cpu",
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar.")] = True,
) -> None:
    """Write circuits with a fine-tuned LLM (decoding settings pinned in generation.json)."""
    with cli_errors():
        from qml.generators.llm import random_graph
        from qml.generators.llm.dataset import PROMPT_FIELDS, check_records, read_records
        from qml.generators.llm.generate import (
            decoding_settings,
            generate_texts,
            load_llm,
            prompt_room,
            write_generated,
        )

        if (records is None) == (problem is None):
            raise CliError("give either --records FILE or --problem P with --graph FILE or --nodes N")
        if problem is not None and (graph is None) == (nodes is None):
            raise CliError("a new instance needs --graph FILE or --nodes N (one of them)")
        decoding_settings(decoding)  # an unknown name fails before the model loads
        gen = load_llm(model, device)
        if records is not None:
            if not records.is_file():
                raise CliError(f"no records file {records}")
            todo = read_records(records)[:limit]
            check_records(todo, records, PROMPT_FIELDS)
        else:
            g = read_graph(graph) if graph is not None else random_graph(problem, nodes, seed)
            todo = [_new_record(problem, g, layers, seed)]
            if prompt_room(gen, todo[0]) < 1:
                raise CliError(
                    f"the prompt of this instance takes {gen.context - prompt_room(gen, todo[0])} tokens and"
                    f" the model's context is {gen.context}: no room for an answer; use a smaller graph"
                )
        full = sum(prompt_room(gen, r) < 1 for r in todo)
        if full:
            typer.echo(
                f"{full} of {len(todo)} prompts fill the model's context ({gen.context} tokens): their"
                " answers are empty and score invalid",
                err=True,
            )
        texts = generate_texts(
            gen,
            todo,
            constrained=constrained,
            max_new_tokens=max_tokens,
            progress=progress,
            decoding=decoding,
        )
        folder = write_generated(texts, todo, out, decoding, model=str(model), constrained=constrained)
    if problem is not None:
        typer.echo(texts[0], nl=not texts[0].endswith("\n"))
    typer.echo(
        f"{len(texts)} circuits written to {folder}; score them with 'ketml evaluate-circuits {folder}'"
    )
