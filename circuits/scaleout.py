"""Many independent circuits at once: run them locally or spread over a ``concurrent.futures.Executor``.

Any executor works (``ProcessPoolExecutor``, Dask distributed's ``Client.get_executor()``,
Ray's). Work is shipped as plain data (circuits, numpy values, the engine's name and
options), each worker keeps its engines and their compile caches between tasks, and
results come back in input order. Gradients do not cross process boundaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import torch
from qiskit import QuantumCircuit

from . import engines
from .errors import ConfigurationError, KetmlError, ParameterError
from .evaluate import expval_one, sample_one

_WORKER_ENGINES: dict[tuple, engines.Engine] = {}


def _engine_in_worker(name: str, options: dict) -> engines.Engine:
    key = (name, repr(sorted(options.items())))
    eng = _WORKER_ENGINES.get(key)
    if eng is None:
        eng = _WORKER_ENGINES[key] = engines.get(name, **options)
    return eng


def _run_chunk(kind: str, jobs: list[tuple], name: str, options: dict, kwargs: dict) -> list:
    """Worker side: evaluate a chunk of ``(circuit, values, seed)`` jobs; numpy / dict results."""
    eng = _engine_in_worker(name, options)
    out = []
    for circuit, values, seed in jobs:
        res = _run_one(kind, circuit, values, eng, seed, {}, kwargs)
        out.append(res.detach().cpu().numpy() if kind == "expval" else res)
    return out


def _run_one(
    kind: str,
    circuit: QuantumCircuit,
    values: Any,
    engine: str | engines.Engine,
    seed: int | None,
    engine_options: dict,
    kwargs: dict,
) -> Any:
    """One circuit: a tensor of expectation values, or a list of counts per batch entry."""
    if kind == "expval":
        return expval_one(
            circuit,
            kwargs["observables"],
            values,
            engine=engine,
            shots=kwargs["shots"],
            seed=seed,
            engine_options=engine_options,
        )
    return sample_one(
        circuit, values, shots=kwargs["shots"], engine=engine, seed=seed, engine_options=engine_options
    )


def run_many(
    kind: str,
    circuits: Sequence[QuantumCircuit],
    parameter_values: Any,
    *,
    engine: str | engines.Engine,
    executor: Executor | None,
    seed: int | None,
    engine_options: dict,
    chunks: int | None = None,
    **kwargs,
) -> list:
    """Evaluate ``kind`` (``"expval"`` or ``"sample"``) per circuit; circuit ``i`` gets seed ``seed+i``."""
    circuits = list(circuits)
    if not circuits:
        raise ConfigurationError("an empty list of circuits was given")
    for i, c in enumerate(circuits):
        if not isinstance(c, QuantumCircuit):
            raise KetmlError(f"circuit {i} is a {type(c).__name__}, not a qiskit.QuantumCircuit")
    if parameter_values is None:
        values = [None] * len(circuits)
    elif isinstance(parameter_values, (list, tuple)) and len(parameter_values) == len(circuits):
        values = list(parameter_values)
    else:
        raise ParameterError(
            f"with {len(circuits)} circuits, parameter_values must be None or a list of "
            f"{len(circuits)} entries (one per circuit)"
        )
    seeds = [None if seed is None else int(seed) + i for i in range(len(circuits))]
    if executor is None:
        return [
            _run_one(kind, c, v, engine, s, engine_options, kwargs)
            for c, v, s in zip(circuits, values, seeds, strict=True)
        ]
    if not isinstance(engine, str):
        raise ConfigurationError(
            "with executor=, give the engine by name (engine='aer', ...) and its options as "
            "keywords: engine objects are not shipped to workers"
        )
    shipped = []
    for i, v in enumerate(values):
        if isinstance(v, torch.Tensor):
            if v.requires_grad:
                raise ConfigurationError(
                    f"parameter values of circuit {i} require grad, but gradients do not cross "
                    "process boundaries: call without executor= to train"
                )
            v = v.detach().cpu().numpy()
        elif isinstance(v, dict):
            v = {k: (t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t) for k, t in v.items()}
        shipped.append(v)
    jobs = list(zip(circuits, shipped, seeds, strict=True))
    n_chunks = max(1, min(len(jobs), chunks or 64))
    bounds = np.linspace(0, len(jobs), n_chunks + 1).astype(int)
    futures = [
        executor.submit(_run_chunk, kind, jobs[a:b], engine, dict(engine_options), kwargs)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        if b > a
    ]
    results: list = []
    for f in futures:
        results.extend(f.result())
    if kind == "expval":
        return [torch.as_tensor(r) for r in results]
    return results
