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
from typing import Any

import networkx as nx
import numpy as np
from qiskit import qasm3

from circuits import statevector
from circuits.errors import ConfigurationError, DataError

from .hamiltonians import QUBIT_LIMIT, diagonal
from .optimise import Method, Solution, circuit_for, optimise, round_angles
from .problems import Instance, build, random_instance

__all__ = [
    "Task",
    "build_dataset",
    "instance_of",
    "make_record",
    "prompt",
    "read_records",
    "solve_batch",
    "tasks",
]


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
    graph = nx.node_link_graph(record["graph"], directed=False, multigraph=False, edges="edges")
    return build(record["problem"], graph, **record.get("options", {}))


def prompt(record: dict) -> str:
    """The paper's user prompt for a record (:func:`.prompts.user_prompt`)."""
    from .prompts import user_prompt

    return user_prompt(record)


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


#: the fields a record needs to be a prompt (generation) and to be scored (evaluation)
PROMPT_FIELDS = ("key", "problem", "graph", "n_qubits", "layers")
SCORE_FIELDS = ("key", "n_qubits", "hamiltonian", "probabilities", "expectation", "exact_energy")


def check_records(records: Sequence[dict], path: str | os.PathLike, fields: Sequence[str]) -> None:
    """A ``DataError`` naming the first record (its line) that lacks one of ``fields``."""
    for line, r in enumerate(records, 1):
        missing = [k for k in fields if k not in r] if isinstance(r, dict) else list(fields)
        if missing:
            raise DataError(
                f"{path}: record {line} lacks {', '.join(missing)}; not a 'ketml generate dataset' file"
            )


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


def solve_batch(batch: Sequence[Task], settings: dict[str, Any]) -> list[dict]:
    """The records of one batch (tasks of one qubit count and method): what an executor's worker
    runs. Instances are rebuilt from the tasks (seeded), so only the tasks travel."""
    instances = [t.instance() for t in batch]
    decimals = settings.get("decimals", 4)
    opts = {k: v for k, v in settings.items() if k != "decimals"}
    sols = optimise(instances, batch[0].method, seeds=[t.seed for t in batch], **opts)
    return [
        make_record(t, inst, s, decimals=decimals) for t, inst, s in zip(batch, instances, sols, strict=True)
    ]


def _completed(executor, futures: list):
    """``futures`` as they finish: ``distributed.as_completed`` for a Dask client, else
    ``concurrent.futures.as_completed``."""
    if type(executor).__module__.split(".")[0] == "distributed":
        from distributed import as_completed

        return as_completed(futures)
    from concurrent.futures import as_completed

    return as_completed(futures)


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
    executor: Any = None,
    progress: bool = False,
) -> dict[str, int]:
    """Optimise every task and append its record to ``out`` (JSON lines); resumes a partial file.

    Tasks above the 16-qubit limit are skipped (counted in ``too_large``), as the paper.
    ``executor``: anything with ``submit(fn, *args) -> future`` (``concurrent.futures``
    executors, a Dask ``distributed.Client``) runs the batches at once; records are written, by
    this process alone, as batches finish, so an interrupted build resumes from what was written.
    ``on_batch(done, total)`` is called after each batch is written; ``progress`` shows a bar.
    Returns counts.
    """
    from tqdm.auto import tqdm

    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be at least 1, got {batch_size}")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise ConfigurationError(
            f"executor must have submit(fn, *args) (concurrent.futures, distributed.Client); "
            f"got {type(executor).__name__}"
        )
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
    settings = {
        "steps": steps,
        "lr": lr,
        "restarts": restarts,
        "check_every": check_every,
        "decimals": decimals,
    }
    pending = [[t for t, _ in b] for b in batches if not all(t.key in have for t, _ in b)]
    done, written = len(batches) - len(pending), 0
    bar = tqdm(total=len(batches), initial=done, desc="records", unit="batch", disable=not progress)

    def write(records: list[dict]) -> None:
        nonlocal done, written
        lines = [json.dumps(r) + "\n" for r in records if r["key"] not in have]
        with path.open("a") as fh:
            fh.writelines(lines)
            fh.flush()
            os.fsync(fh.fileno())
        written += len(lines)
        have.update(r["key"] for r in records)
        done += 1
        bar.update(1)
        if on_batch is not None:
            on_batch(done, len(batches))

    try:
        if executor is None:
            for batch in pending:
                write(solve_batch(batch, settings))
        else:
            futures = [executor.submit(solve_batch, batch, settings) for batch in pending]
            for fut in _completed(executor, futures):
                write(fut.result())
    finally:
        bar.close()
    return {"written": written, "existing": len(items) - written, "too_large": too_large}
