"""The privacy study: the three attacks over encoding expressivity (encoding, degree, qubits) and
ansatz size (one layer, or enough for 4**n - 1 weights), the DLG baseline, plots; and
:func:`attack_run`, the attacks on a finished federated run (``ketml privacy-attack RUN``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from circuits.errors import ConfigurationError
from qml.training.runs import RunNotFoundError, write_json

from .attacks import Target, feature_attack, gradient_matching, numerical_attack
from .circuit import max_frequency, overparameterised_layers
from .client import client_data
from .config import FedConfig
from .dlg import MLPTarget, dlg_attack
from .local import build_model

__all__ = ["attack_run", "attack_target", "plot_privacy", "sweep_configs"]

#: largest qubit count for the Pauli-feature attack (its 4**n x 2**n x 2**n Pauli tensor)
FEATURE_ATTACK_MAX_QUBITS = 4


def sweep_configs(qubits=(1, 2, 3), encodings=None) -> list[dict[str, Any]]:
    """(qubits, encoding, degree, layers) over shallow and overparameterised ansaetze."""
    encodings = encodings or [
        ("angle", 1),
        ("repeated", 2),
        ("repeated", 4),
        ("exponential", 2),
        ("exponential", 3),
    ]
    out = []
    for n in qubits:
        for enc, deg in encodings:
            for regime, layers in (("one layer", 1), ("overparameterised", overparameterised_layers(n))):
                out.append({"qubits": n, "encoding": enc, "degree": deg, "layers": layers, "ansatz": regime})
    return out


def attack_target(
    target: Target, *, starts: int, steps: int, numerical_starts: int, numerical_steps: int, seed: int = 0
) -> dict[str, Any]:
    """The three attacks on one target: their summaries and wall times."""
    row: dict[str, Any] = {
        "max_frequency": max_frequency(target.encoding, target.degree),
        "n_weights": target.n_weights,
    }
    t0 = time.perf_counter()
    row["gradient_matching"] = gradient_matching(target, starts=starts, steps=steps, seed=seed).summary()
    row["gradient_matching"]["seconds"] = time.perf_counter() - t0
    if target.n <= FEATURE_ATTACK_MAX_QUBITS:
        t0 = time.perf_counter()
        res, info = feature_attack(target, starts=starts, steps=steps, seed=seed)
        row["feature_attack"] = {**res.summary(), **info, "seconds": time.perf_counter() - t0}
    if numerical_starts:
        t0 = time.perf_counter()
        res = numerical_attack(target, starts=numerical_starts, steps=numerical_steps, seed=seed)
        row["numerical_attack"] = {**res.summary(), "seconds": time.perf_counter() - t0}
    return row


def dlg_baseline(dims=(4, 8), seeds=(0, 1), starts: int = 16, steps: int = 300) -> list[dict[str, Any]]:
    rows = []
    for d in dims:
        for s in seeds:
            t0 = time.perf_counter()
            res = dlg_attack(MLPTarget(d, 16, seed=s), starts=starts, steps=steps, seed=s)
            rows.append({"d": d, "seed": s, **res.summary(), "seconds": time.perf_counter() - t0})
    return rows


def plot_privacy(rows: list[dict[str, Any]], path: Path, attack: str = "gradient_matching") -> Path:
    """Success rate (left) and distinct minima (right) against the encoding's max frequency,
    one line per (qubits, ansatz)."""
    fig = Figure(figsize=(10, 4))
    ax_s, ax_m = fig.subplots(1, 2)
    groups: dict[tuple, list] = {}
    for r in rows:
        if attack in r:
            groups.setdefault((r["qubits"], r["ansatz"]), []).append(r)
    for (n, regime), items in sorted(groups.items()):
        by_f: dict[int, list] = {}
        for r in items:
            by_f.setdefault(r["max_frequency"], []).append(r[attack])
        fs = sorted(by_f)
        succ = [np.mean([a["success_rate"] for a in by_f[f]]) for f in fs]
        mins = [np.mean([a["distinct_minima"] for a in by_f[f]]) for f in fs]
        style = "-o" if regime == "overparameterised" else "--s"
        ax_s.plot(fs, succ, style, label=f"{n} qubit(s), {regime}", markersize=4)
        ax_m.plot(fs, mins, style, label=f"{n} qubit(s), {regime}", markersize=4)
    for ax, label in ((ax_s, "success rate (fraction of starts)"), (ax_m, "distinct minima found")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("max frequency of the encoding")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    ax_m.set_yscale("log")
    ax_s.legend(fontsize=7)
    fig.suptitle(f"{attack.replace('_', ' ')}: expressivity against invertibility")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def attack_run(
    run_dir: Path,
    *,
    client: int = 0,
    sample: int = 0,
    starts: int = 32,
    steps: int = 300,
    numerical: bool = True,
) -> dict[str, Any]:
    """The server of a finished federated run attacks one client's gradient for one sample: the
    VQC part of the global model (its trained theta; the loss (<Z_0> - y)^2 with y = +-1 from the
    label's parity), the sample's encoding angles as x*. Writes ``privacy.json`` in the run."""
    run_dir = Path(run_dir)
    path = run_dir / "metrics.json"
    if not path.is_file() or not (run_dir / "model.pt").is_file():
        raise RunNotFoundError(f"{run_dir} is not a finished federated run (no metrics.json / model.pt)")
    cfg = FedConfig(**{**json.loads(path.read_text())["config"], "out_dir": str(run_dir)})
    if not 0 <= client < cfg.clients:
        raise ConfigurationError(f"client must be in 0..{cfg.clients - 1}; got {client}")
    x, y, _, dims = client_data(cfg, client, cfg.clients)
    if not 0 <= sample < len(x):
        raise ConfigurationError(f"client {client} has {len(x)} samples; got sample {sample}")
    model = build_model(cfg, dims)
    model.load_state_dict(torch.load(run_dir / "model.pt", weights_only=True))
    with torch.no_grad():
        angles = model.angles(x[sample : sample + 1])[0]
    target = Target(
        cfg.qubits,
        cfg.encoding,
        cfg.degree,
        cfg.layers,
        theta=model.quantum.weights.detach(),
        x_star=angles,
        y=1.0 if int(y[sample]) % 2 == 0 else -1.0,
    )
    row = attack_target(
        target,
        starts=starts,
        steps=steps,
        numerical_starts=16 if numerical else 0,
        numerical_steps=200,
    )
    out = {"run": str(run_dir), "client": client, "sample": sample, **cfg.model_options(), **row}
    write_json(run_dir / "privacy.json", out)
    return out
