"""The QAOA/VQE circuit dataset: tasks, JSON-lines records and a build that resumes where it stopped.

A record holds the problem, its graph (node-link), its Hamiltonian (``[label, coefficient]``
pairs, Qiskit order), qubits, layers, ansatz, exact solution and energy, optimised parameters,
the probabilities of the circuit as written, and the circuit in OpenQASM 3 with numeric angles
(rounded to ``decimals``, as the paper). Batches are fixed by the task list alone, so a resumed
build recomputes exactly what an uninterrupted one would have and writes only what is missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import networkx as nx
import numpy as np
from qiskit import qasm3

from circuits import statevector
from circuits.errors import ConfigurationError, DataError

from .hamiltonians import QUBIT_LIMIT, diagonal
from .optimise import Method, Solution, circuit_for, optimise, round_angles
from .problems import Instance, build, random_instance

__all__ = ["Task", "build_dataset", "instance_of", "make_record", "prompt", "read_records", "tasks"]


@dataclass(frozen=True)
class Task:
    """One record to make: ``problem`` on the random graph ``(n_nodes, seed)``, solved by ``method``."""

    problem: str
    n_nodes: int
    seed: int
    method: Method

    @property
    def key(self) -> str:
        return f"{self.problem}/n{self.n_nodes}/s{self.seed}/{self.method.label}"

    def instance(self) -> Instance:
        return random_instance(self.problem, self.n_nodes, self.seed)


def tasks(
    problems: Iterable[str], nodes: Iterable[int], seeds: Iterable[int], methods: Iterable[Method]
) -> list[Task]:
    """Every combination, in a fixed order."""
    return [Task(p, n, s, m) for p, n, s, m in product(problems, nodes, seeds, methods)]


def make_record(task: Task, instance: Instance, solution: Solution, *, decimals: int = 4) -> dict:
    """The JSON record of an optimised instance; probabilities are those of the QASM as written."""
    qc = round_angles(circuit_for(instance, task.method, solution.parameters, solution.gates), decimals)
    probs = statevector(qc, dtype="complex128").abs().square()[0].numpy()
    diag = diagonal(instance.hamiltonian)
    exact = instance.exact()
    top = int(np.argmax(probs))
    return {
        "key": task.key,
        "problem": task.problem,
        "seed": task.seed,
        "graph": instance.graph_json(),
        "options": instance.options,
        "hamiltonian": [[label, float(np.real(c))] for label, c in instance.hamiltonian.to_list()],
        "n_qubits": instance.n_qubits,
        "method": task.method.kind,
        "layers": task.method.layers,
        "ansatz": task.method.ansatz,
        "gates": solution.gates,
        "exact_energy": exact.energy,
        "exact_bitstrings": list(exact.bitstrings),
        "parameters": [round(v, decimals) for v in solution.parameters],
        "expectation": float(probs @ diag),
        "most_probable": format(top, f"0{instance.n_qubits}b"),
        "most_probable_optimal": bool(diag[top] <= exact.energy + 1e-9),
        "steps": solution.steps,
        "restarts": solution.restarts,
        "probabilities": [float(p) for p in probs],  # unrounded: a rounded 0 makes KL infinite
        "qasm": qasm3.dumps(qc),
    }


def instance_of(record: dict) -> Instance:
    """The record's instance rebuilt from its graph and options (the Hamiltonian is recomputed)."""
    graph = nx.node_link_graph(record["graph"], edges="edges")
    return build(record["problem"], graph, **record.get("options", {}))


def prompt(record: dict) -> str:
    """The paper's user prompt for a record, as far as its summary quotes it (the part it elides
    is left out); ``attrs`` are the record's scalar options."""
    attrs = ", ".join(
        f"{k} {v}" for k, v in sorted(record.get("options", {}).items()) if not isinstance(v, list)
    )
    graph = json.dumps(
        {
            "nodes": [n["id"] for n in record["graph"]["nodes"]],
            "edges": [[e["source"], e["target"]] for e in record["graph"]["edges"]],
            **record["graph"].get("graph", {}),  # hyperedges, the second graph of an isomorphism
        }
    )
    return (
        f"generate a quantum circuit in QASM 3.0 with {record['n_qubits']} qubits and "
        f"{record['layers']} layers with optimal parameters that solves the {record['problem']} "
        f"{('(' + attrs + ') ') if attrs else ''}problem for the following graph: {graph}. "
        "Only return the full QASM code."
    )


def read_records(path: str | os.PathLike) -> list[dict]:
    """The complete records of a JSON-lines file (a torn last line is ignored)."""
    out = []
    p = Path(path)
    if not p.exists():
        return out
    for line in p.read_text().splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            raise DataError(f"{path}: a line is not JSON; the file is not a dataset of records") from None
    return out


def _repair(path: Path) -> set[str]:
    """Keys already written; drop a torn last line (an interrupted write) by rewriting the file."""
    if not path.exists():
        return set()
    text = path.read_text()
    if text and not text.endswith("\n"):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text[: text.rfind("\n") + 1])
        tmp.replace(path)
    return {r["key"] for r in read_records(path)}


def _batches(items: Sequence[tuple[Task, Instance]], batch_size: int) -> list[list[tuple[Task, Instance]]]:
    groups: dict[tuple, list] = {}
    for t, inst in items:
        groups.setdefault((inst.n_qubits, t.method), []).append((t, inst))
    return [g[i : i + batch_size] for g in groups.values() for i in range(0, len(g), batch_size)]


def build_dataset(
    todo: Sequence[Task],
    out: str | os.PathLike,
    *,
    batch_size: int = 16,
    decimals: int = 4,
    steps: int = 500,
    lr: float = 0.01,
    restarts: int = 3,
    check_every: int = 10,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Optimise every task and append its record to ``out`` (JSON lines); resumes a partial file.

    Tasks above the 16-qubit limit are skipped (counted in ``too_large``), as the paper.
    ``on_batch(done, total)`` is called after each batch is written. Returns counts.
    """
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be at least 1, got {batch_size}")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    have = _repair(path)
    items, too_large = [], 0
    for t in todo:
        try:
            items.append((t, t.instance()))
        except ConfigurationError as exc:
            if f"limit of {QUBIT_LIMIT}" not in str(exc):
                raise
            too_large += 1
    batches = _batches(items, batch_size)
    written = 0
    for b, batch in enumerate(batches):
        if all(t.key in have for t, _ in batch):
            continue
        sols = optimise(
            [inst for _, inst in batch],
            batch[0][0].method,
            seeds=[t.seed for t, _ in batch],
            steps=steps,
            lr=lr,
            restarts=restarts,
            check_every=check_every,
        )
        lines = [
            json.dumps(make_record(t, inst, s, decimals=decimals)) + "\n"
            for (t, inst), s in zip(batch, sols, strict=True)
            if t.key not in have
        ]
        with path.open("a") as fh:
            fh.writelines(lines)
            fh.flush()
            os.fsync(fh.fileno())
        written += len(lines)
        have |= {t.key for t, _ in batch}
        if on_batch is not None:
            on_batch(b + 1, len(batches))
    return {"written": written, "existing": len(items) - written, "too_large": too_large}
