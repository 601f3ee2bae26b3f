"""Warm start: a generated circuit's angles as the start of a few optimisation steps on the torch
engine, against random starts of the same circuit: steps until the energy is within ``tolerance``
(0.2) of the exact optimum.

Every gate angle of the generated circuit becomes a parameter (:func:`.evaluate.randomisable`);
the generated angles and ``random_starts`` draws from U[0, 2 pi) are optimised together, one Adam
trajectory each (the loss is their summed energy, Adam is element-wise). A start that never gets
there within ``steps`` counts as ``None``.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr

import numpy as np
import torch
from qiskit.quantum_info import SparsePauliOp

from circuits import statevector

from .evaluate import _parse, extract_qasm, randomisable
from .hamiltonians import diagonal

__all__ = ["angles", "summarise_warm_starts", "warm_start"]


def angles(qc) -> list[float]:
    """The numeric gate angles of ``qc`` in the order of :func:`.evaluate.randomisable`."""
    return [
        float(v)
        for i in qc.data
        if i.operation.name not in ("measure", "barrier")
        for v in i.operation.params
    ]


def warm_start(
    text: str,
    record: dict,
    *,
    steps: int = 100,
    lr: float = 0.05,
    tolerance: float = 0.2,
    random_starts: int = 5,
    seed: int = 0,
) -> dict | None:
    """Steps to within ``tolerance`` of the optimum from the generated angles and from random ones;
    ``None`` when the text is not a simulable circuit of the record's width with angles."""
    try:
        with redirect_stderr(io.StringIO()):
            qc = _parse(extract_qasm(text))
    except Exception:  # noqa: BLE001 - an invalid text has no warm start (the evaluation says why)
        return None
    if qc.num_qubits != record["n_qubits"] or qc.parameters:
        return None
    qc = qc.remove_final_measurements(inplace=False)
    template, count = randomisable(qc)
    if count == 0:
        return None
    diag = torch.as_tensor(diagonal(SparsePauliOp.from_list([tuple(t) for t in record["hamiltonian"]])))
    target = float(record["exact_energy"]) + tolerance
    rng = np.random.default_rng(seed)
    starts = np.vstack([np.asarray(angles(qc))[None], rng.uniform(0, 2 * np.pi, size=(random_starts, count))])
    theta = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([theta], lr=lr)
    reached: list[int | None] = [None] * len(starts)
    first = None
    for step in range(steps + 1):
        energy = (statevector(template, theta, dtype="complex128").abs().square() * diag).sum(1)
        e = energy.detach().numpy()
        if first is None:
            first = e.copy()
        for j in np.flatnonzero(e <= target):
            if reached[j] is None:
                reached[j] = step
        if all(r is not None for r in reached) or step == steps:
            break
        adam.zero_grad()
        energy.sum().backward()
        adam.step()
    return {
        "key": record.get("key"),
        "generated_steps": reached[0],
        "random_steps": reached[1:],
        "generated_start_gap": float(first[0] - record["exact_energy"]),
        "random_start_gap": float(np.mean(first[1:]) - record["exact_energy"]),
        "generated_end_gap": float(e[0] - record["exact_energy"]),
        "random_end_gap": float(np.mean(e[1:]) - record["exact_energy"]),
        "budget": steps,
    }


def summarise_warm_starts(rows: list[dict | None]) -> dict:
    """Fraction of starts within tolerance in the budget and their median steps (a start that did
    not get there counts as ``budget + 1``), generated against random."""
    rows = [r for r in rows if r is not None]
    if not rows:
        return {"circuits": 0}
    budget = rows[0]["budget"]
    gen = [r["generated_steps"] for r in rows]
    rand = [s for r in rows for s in r["random_steps"]]
    censor = lambda xs: [budget + 1 if x is None else x for x in xs]  # noqa: E731
    return {
        "circuits": len(rows),
        "budget": budget,
        "generated_reached": sum(x is not None for x in gen) / len(gen),
        "random_reached": sum(x is not None for x in rand) / len(rand),
        "generated_median_steps": float(np.median(censor(gen))),
        "random_median_steps": float(np.median(censor(rand))),
        "generated_mean_start_gap": float(np.mean([r["generated_start_gap"] for r in rows])),
        "random_mean_start_gap": float(np.mean([r["random_start_gap"] for r in rows])),
        "generated_mean_end_gap": float(np.mean([r["generated_end_gap"] for r in rows])),
        "random_mean_end_gap": float(np.mean([r["random_end_gap"] for r in rows])),
    }
