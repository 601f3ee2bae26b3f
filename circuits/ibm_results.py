"""A recorded IBM job's raw primitive result as plain numbers: counts or labelled expectation
values (the user's observables read back from the stored payload), and a PNG of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from .errors import ConfigurationError
from .jobs import JobRecord, JobRegistry
from .observables import pauli_label


def expectation_labels(payload: Any, n: int) -> list[str]:
    """Labels of the ``n`` observables of an estimator payload ``[(isa_circuit, observables, ...)]``:
    the user's Pauli labels, mapped back through the ISA circuit's layout, or ``obs0``, ``obs1``, ...
    when the payload cannot be read back."""
    try:
        isa, observables = payload[0][0], payload[0][1]
        layout = isa.layout
        where = layout.final_index_layout() if layout is not None else list(range(isa.num_qubits))
        labels = []
        for op in observables:
            terms = [("".join(label[::-1][q] for q in where)[::-1], c) for label, c in op.to_list()]
            virtual = SparsePauliOp.from_list(terms)
            if not virtual.apply_layout(layout).equiv(op):
                return [f"obs{i}" for i in range(n)]
            labels.append(pauli_label(virtual))
        if len(labels) == n:
            return labels
    except Exception:  # an unusual payload: number the observables instead
        pass
    return [f"obs{i}" for i in range(n)]


def result_values(registry: JobRegistry, rec: JobRecord, raw: Any) -> dict[str, Any]:
    """``{"counts": ...}`` (sampler; most frequent first) or ``{"expectation_values": ...,
    "stds": ...}`` (estimator; keyed by observable label): a dict, or a list of dicts per row."""
    if rec.kind == "sampler":
        rows = [{k.replace(" ", ""): int(v) for k, v in c.items()} for c in raw[0]]
        rows = [dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for c in rows]
        return {"counts": rows[0] if len(rows) == 1 else rows}
    evs, stds = np.asarray(raw[0]["evs"], dtype=float), np.asarray(raw[0]["stds"], dtype=float)
    n = evs.shape[-1] if evs.ndim else 1
    labels = expectation_labels(registry.payload(rec), n)
    rows = [dict(zip(labels, r.tolist(), strict=True)) for r in evs.reshape(-1, n)]
    errs = [dict(zip(labels, r.tolist(), strict=True)) for r in stds.reshape(-1, n)]
    single = len(rows) == 1
    return {"expectation_values": rows[0] if single else rows, "stds": errs[0] if single else errs}


def plot_result(values: dict[str, Any], path: str | Path, title: str) -> None:
    """Write :func:`result_values` output as a PNG: a histogram of the (first row's) counts, or a
    bar chart of its expectation values in [-1, 1]."""
    from matplotlib.figure import Figure

    path = Path(path)
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.subplots()
    if "counts" in values:
        counts = values["counts"] if isinstance(values["counts"], dict) else values["counts"][0]
        keys = sorted(counts)
        total = sum(counts.values())
        ax.bar(keys, [counts[k] / total for k in keys], color="tab:blue")
        ax.set_xlabel("bitstring (qubit 0 right-most)")
        ax.set_ylabel("probability")
        ax.tick_params(axis="x", labelrotation=90 if len(keys) > 8 else 0)
    else:
        evs = values["expectation_values"]
        evs = evs if isinstance(evs, dict) else evs[0]
        ax.bar(list(evs), list(evs.values()), color="tab:orange")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylim(-1.05, 1.05)
        ax.set_ylabel("expectation value")
    ax.set_title(title)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path}: {exc.strerror or exc}") from None
