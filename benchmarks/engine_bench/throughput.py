"""The state-vector throughput benchmark (``throughput`` / ``gpu_throughput`` in the JSON).

A fixed random layered circuit, batch 1, on every simulator of ``simulators``: median seconds per
final state, effective memory bandwidth, and each state's fidelity against the reference's. A
simulator predicted to take longer than ``--throughput-skip-above`` is skipped, not run.
"""

from __future__ import annotations

import gc
import math
import time
from typing import Any

from benchmarks.harness import CrossCheckError, deadline, is_timeout, log, skip_reason, time_call

from .simulators import GPU_SIMS, SIM_LABELS, THROUGHPUT_SIMS, as_vector, simulator_runner, throughput_circuit

PROBE_QUBITS_BELOW = 4


def probe_simulator(args, sim: str, n_qubits: int, precision: str) -> dict[str, Any]:
    """Time ``sim`` twice on the layered circuit at ``n_qubits - 4`` qubits (the first call
    compiles) and extrapolate to ``n_qubits``: x 2^4 for the state, x n ratio for the gates.
    Keeps a slow simulator (CUDA-Q qpp-cpu, default.qubit) from spending minutes in one
    uninterruptible call."""
    n_probe = n_qubits - PROBE_QUBITS_BELOW
    qc = throughput_circuit(n_probe, args.throughput_layers, args.seed)
    runner = simulator_runner(sim, qc, precision, args.threads)
    times = []
    with deadline(args.budget):
        for _ in range(2):
            t0 = time.perf_counter()
            runner()
            times.append(time.perf_counter() - t0)
    best = min(times)
    predicted = best * 2**PROBE_QUBITS_BELOW * n_qubits / n_probe
    return {"n_qubits": n_probe, "seconds": best, "predicted_s": predicted}


def throughput_row(
    args,
    n_qubits: int,
    precision: str,
    sims: tuple[str, ...],
    reference: str,
    history: dict[tuple[str, str], tuple[int, float]],
) -> dict[str, Any]:
    """Time ``sims`` on the layered circuit; fidelity of each final state against
    ``reference``'s (the first of ``sims``). ``history`` holds each simulator's last median per
    precision, so a size predicted to take more than ``--throughput-skip-above`` seconds is
    skipped rather than run; a simulator's first size >= 12 is predicted by a probe 4 qubits
    smaller. The reference always runs (under ``--budget``)."""
    import numpy as np

    qc = throughput_circuit(n_qubits, args.throughput_layers, args.seed)
    gates = qc.size()
    state_bytes = (2**n_qubits) * (8 if precision == "single" else 16)
    res: dict[str, Any] = {
        "n_qubits": n_qubits,
        "precision": precision,
        "layers": args.throughput_layers,
        "gates": gates,
        "state_bytes": state_bytes,
        "simulators": list(sims),
        "reference": reference,
        "over_reference": {},
        "fidelities": {},
    }
    repeats = args.repeats if n_qubits < 24 else max(2, min(args.repeats, 3))
    ref_state = None
    for sim in sims:
        log(f"[throughput n={n_qubits} {precision}] {sim}")
        prev = history.get((sim, precision))
        if prev is not None and prev[0] < n_qubits and sim != reference:
            predicted = prev[1] * 2 ** (n_qubits - prev[0]) * n_qubits / prev[0]
            if predicted > args.throughput_skip_above:
                res[sim] = {
                    "status": "skipped",
                    "budget_s": args.throughput_skip_above,
                    "reason": (
                        f"too slow (predicted): about {predicted:.3g} s per state from "
                        f"{prev[1]:.3g} s at n={prev[0]} (x 2^dn x n ratio) "
                        f"> --throughput-skip-above {args.throughput_skip_above:g} s"
                    ),
                }
                log(f"    skipped: {res[sim]['reason']}")
                continue
        keep: dict[str, Any] = {}
        try:
            runner = simulator_runner(sim, qc, precision, args.threads)
            probe = None
            if prev is None and n_qubits - PROBE_QUBITS_BELOW >= 8 and sim != reference:
                probe = probe_simulator(args, sim, n_qubits, precision)
        except Exception as exc:  # noqa: BLE001 - a simulator that cannot start is a skip
            res[sim] = {"status": "skipped", "reason": skip_reason(exc)}
            if is_timeout(exc):
                res[sim]["reason"] = (
                    f"too slow: the probe at n={n_qubits - PROBE_QUBITS_BELOW} exceeded "
                    f"--budget {args.budget:g} s"
                )
                history[(sim, precision)] = (n_qubits, math.inf)
            log(f"    skipped: {res[sim]['reason']}")
            continue
        if probe is not None and probe["predicted_s"] > args.throughput_skip_above:
            history[(sim, precision)] = (probe["n_qubits"], probe["seconds"])
            res[sim] = {
                "status": "skipped",
                "budget_s": args.throughput_skip_above,
                "probe": probe,
                "reason": (
                    f"too slow (predicted): about {probe['predicted_s']:.3g} s per state from "
                    f"{probe['seconds']:.3g} s at n={probe['n_qubits']} (x 2^dn x n ratio) "
                    f"> --throughput-skip-above {args.throughput_skip_above:g} s"
                ),
            }
            log(f"    skipped: {res[sim]['reason']}")
            del runner
            continue

        def fn(runner=runner, keep=keep):
            keep["state"] = runner()

        rec = time_call(
            fn,
            repeats=repeats,
            warmup=args.warmup,
            budget_s=args.budget,
            total_budget_s=args.peer_total_budget,
        )
        del runner
        if probe is not None:
            rec["probe"] = probe
        if rec["status"] == "ok":
            rec["bandwidth_GBps"] = gates * 2 * state_bytes / rec["median_s"] / 1e9
            history[(sim, precision)] = (n_qubits, rec["median_s"])
            log(f"    median {rec['median_s']:.4f} s, {rec['bandwidth_GBps']:.1f} GB/s effective")
            state = as_vector(keep.pop("state"))
            if sim == reference:
                ref_state = state
            elif ref_state is not None:
                fid = float(abs(np.vdot(ref_state, state)) ** 2)
                res["fidelities"][sim] = fid
                res["over_reference"][sim] = rec["median_s"] / res[reference]["median_s"]
                if n_qubits <= args.fidelity_max_qubits and fid <= 0.999:
                    raise CrossCheckError(
                        f"throughput n={n_qubits} {precision}: {SIM_LABELS[sim]} and "
                        f"{SIM_LABELS[reference]} states differ (fidelity {fid:.6f})"
                    )
            del state
        else:
            if rec["reason"].startswith("timeout"):
                history[(sim, precision)] = (n_qubits, args.budget)
            log(f"    skipped: {rec['reason']}")
        res[sim] = rec
        keep.clear()
        gc.collect()
    del ref_state
    gc.collect()
    if "aer" in res["over_reference"]:  # the schema-1 names
        res["aer_over_ketml"] = res["over_reference"]["aer"]
        res["fidelity"] = res["fidelities"]["aer"]
    return res


def throughput_benchmark(args, n_qubits: int, precision: str, history=None) -> dict[str, Any]:
    """CPU simulators: ketml's torch engine (the reference), Aer, and through ketml's engines
    lightning.qubit, default.qubit and CUDA-Q qpp-cpu."""
    sims = tuple(s for s in THROUGHPUT_SIMS if s not in args.skip_simulators)
    if "ketml" not in sims:
        sims = ("ketml",) + sims
    return throughput_row(args, n_qubits, precision, sims, "ketml", {} if history is None else history)


def gpu_throughput_benchmark(args, n_qubits: int, precision: str, history=None) -> dict[str, Any]:
    """GPU simulators, each against ketml's torch engine on CUDA (the reference); every one is
    recorded as skipped with the reason where there is no GPU or the package is missing."""
    sims = tuple(s for s in GPU_SIMS if s not in args.skip_simulators or s == "torch_cuda")
    return throughput_row(args, n_qubits, precision, sims, "torch_cuda", {} if history is None else history)
