"""Engine benchmark: ketml's torch engine against PennyLane and Qiskit Aer, side by side.

Two benchmarks, all peers in one process on the same machine and thread count:

1. **Hybrid-QNN training step** (``qnn_step``): angle encoding (RX of the inputs), strongly
   entangling layers, ``<Z>`` on every qubit, a batch of inputs; one step is
   ``zero_grad`` + forward + MSE loss + backward + ``SGD.step``. Peers: ketml's torch engine
   (``diff_method="backprop"`` and ``"adjoint"``, complex64), PennyLane ``default.qubit``
   (torch interface, backprop, parameter broadcasting) and ``lightning.qubit`` (torch
   interface, adjoint). Every peer is first cross-checked against ketml (outputs and weight
   gradients on the same inputs and weights); a disagreement aborts the run.
2. **State-vector throughput** (``throughput``): a fixed random layered circuit
   (RX/RY/RZ on every qubit + a CX ladder per layer), batch 1, ketml
   ``circuits.statevector`` against ``AerSimulator(method="statevector")`` in single and
   double precision; seconds, gate count and effective memory bandwidth
   (``gates * 2 * state_bytes / seconds``).

Results go to ``<out>/engine_bench.json`` and ``<out>/engine_bench.md``; the markdown tables
are also printed. Run ``python benchmarks/engine_bench.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import gc
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Importing torch / pennylane / qiskit is deferred to ``run`` so that the OpenMP settings
# (thread count, wait policy) can be put in the environment before the runtimes load.

PEERS = ("ketml_backprop", "ketml_adjoint", "default_qubit", "lightning_qubit")
PEER_LABELS = {
    "ketml_backprop": "ketml backprop",
    "ketml_adjoint": "ketml adjoint",
    "ketml_backprop_c128": "ketml backprop c128",
    "default_qubit": "default.qubit",
    "lightning_qubit": "lightning.qubit",
}
PENNYLANE_PEERS = ("default_qubit", "lightning_qubit")
KETML_PEERS = ("ketml_backprop", "ketml_adjoint", "ketml_backprop_c128")
# default.qubit's backprop keeps roughly this many complex128 batched states alive per step
# (peak RSS measured at batch 256: 61 states at 14 qubits, 64 at 15); used to skip runs that
# cannot fit in RAM rather than let the kernel's OOM killer end the run.
DEFAULT_QUBIT_STATE_COPIES = 64
TOLERANCE = 1e-4
SCHEMA_VERSION = 1


class StepTimeout(Exception):
    """A step ran past the per-step time budget."""


class CrossCheckError(AssertionError):
    """A peer's outputs or gradients disagree with ketml's."""


# ------------------------------------------------------------------------------ utilities


def log(msg: str) -> None:
    print(msg, flush=True)


@contextlib.contextmanager
def deadline(seconds: float | None):
    """Raise ``StepTimeout`` in the main thread once ``seconds`` have passed (best effort:
    a long C++ kernel finishes first; the caller also checks the elapsed time)."""
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def _handler(signum, frame):
        raise StepTimeout(f"step exceeded the {seconds:g} s budget")

    old = signal.signal(signal.SIGALRM, _handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _meminfo() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                out[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out


def available_memory() -> int:
    info = _meminfo()
    return info.get("MemAvailable", info.get("MemFree", 0))


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cap_address_space(fraction: float) -> int | None:
    """Cap the process's address space at what it uses now + ``fraction`` of free RAM, so a
    peer that runs out of memory raises (and is recorded as skipped) instead of the kernel's
    OOM killer ending the whole run. Returns the cap in bytes, or None if not set."""
    try:
        import resource
    except ImportError:  # pragma: no cover
        return None
    avail = available_memory()
    if not avail or fraction <= 0:
        return None
    cap = _vm_size() + int(fraction * avail)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft < cap:
        return soft
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return cap


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def machine_info(threads: int) -> dict[str, Any]:
    import torch

    mem = _meminfo()
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        affinity = None
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "memory_total_bytes": mem.get("MemTotal"),
        "memory_available_bytes": mem.get("MemAvailable"),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            "torch": torch.__version__,
            "pennylane": _version("pennylane"),
            "pennylane_lightning": _version("pennylane_lightning"),
            "qiskit": _version("qiskit"),
            "qiskit-aer": _version("qiskit-aer"),
            "numpy": _version("numpy"),
            "ketml": _version("ketml"),
        },
        "git_commit": _git_commit(),
        "torch_threads": torch.get_num_threads(),
        "threads_requested": threads,
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS")},
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return any(s in text for s in ("out of memory", "can't allocate memory", "cannot allocate"))


def _reason(exc: BaseException) -> str:
    kind = "out of memory" if _is_oom(exc) else type(exc).__name__
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{kind}: {text}" if text else kind


def time_call(
    fn: Callable[[], Any],
    *,
    repeats: int,
    warmup: int,
    budget_s: float,
    total_budget_s: float,
    min_repeats: int = 2,
) -> dict[str, Any]:
    """Warm up, then time ``repeats`` calls of ``fn``; the median is the result.

    A call past ``budget_s`` (or that raises, e.g. out of memory) makes the record
    ``status="skipped"`` with the reason. When the warm-up shows that ``repeats`` calls would
    take more than ``total_budget_s``, fewer (at least ``min_repeats``) are timed.
    """
    rec: dict[str, Any] = {"status": "ok", "budget_s": budget_s}
    warm_times: list[float] = []
    try:
        for _ in range(max(warmup, 1)):
            t0 = time.perf_counter()
            with deadline(budget_s):
                fn()
            warm_times.append(time.perf_counter() - t0)
            if warm_times[-1] > budget_s:
                raise StepTimeout(f"step took {warm_times[-1]:.1f} s > budget {budget_s:g} s")
        est = warm_times[-1]
        n_rep = repeats
        if est * repeats > total_budget_s:
            n_rep = max(min_repeats, min(repeats, int(total_budget_s // max(est, 1e-9))))
        times: list[float] = []
        for _ in range(n_rep):
            t0 = time.perf_counter()
            with deadline(budget_s):
                fn()
            times.append(time.perf_counter() - t0)
            if times[-1] > budget_s:
                raise StepTimeout(f"step took {times[-1]:.1f} s > budget {budget_s:g} s")
    except StepTimeout as exc:
        rec.update(status="skipped", reason=f"timeout: {exc}", warmup_s=warm_times)
        return rec
    except Exception as exc:  # noqa: BLE001 - a failing peer is recorded, not fatal
        rec.update(status="skipped", reason=_reason(exc), warmup_s=warm_times)
        if not _is_oom(exc):
            rec["traceback"] = traceback.format_exc(limit=6)
        return rec
    finally:
        gc.collect()
    rec.update(
        warmup_s=warm_times,
        times_s=times,
        repeats=len(times),
        median_s=statistics.median(times),
        min_s=min(times),
    )
    return rec


# ------------------------------------------------------------------------------ QNN models


def ketml_circuit(n_qubits: int, n_layers: int):
    """RX angle encoding of ``x`` + ``n_layers`` strongly entangling layers of ``theta``, and
    ``<Z_i>`` observables for every qubit."""
    from qiskit.quantum_info import SparsePauliOp

    from circuits.library import angle_encoding, strongly_entangling_layers

    qc = angle_encoding(n_qubits, "X", inputs="x").compose(
        strongly_entangling_layers(n_qubits, n_layers, weights="theta")
    )
    observables = [SparsePauliOp.from_sparse_list([("Z", [i], 1.0)], n_qubits) for i in range(n_qubits)]
    return qc, observables


class PennyLaneLayer:
    """Factory of a torch module around a PennyLane QNode with the same circuit as ketml's.

    The module holds the weights flat, like ``QuantumLayer``: ``theta[(l*n+i)*3+k]`` is
    PennyLane's ``weights[l, i, k]`` (C-order reshape).
    """

    @staticmethod
    def build(device_name: str, diff_method: str, n_qubits: int, n_layers: int, w0):
        import pennylane as pnl
        import torch

        dev = pnl.device(device_name, wires=n_qubits)
        wires = list(range(n_qubits))

        @pnl.qnode(dev, interface="torch", diff_method=diff_method)
        def circuit(x, weights):
            pnl.AngleEmbedding(x, wires=wires, rotation="X")
            pnl.StronglyEntanglingLayers(weights, wires=wires)
            return [pnl.expval(pnl.PauliZ(i)) for i in wires]

        class _Module(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = torch.nn.Parameter(w0.detach().clone())
                self.qnode = circuit

            def forward(self, x):
                out = self.qnode(x, self.weights.reshape(n_layers, n_qubits, 3))
                return torch.stack(list(out), dim=-1)

        return _Module()


def build_model(peer: str, n_qubits: int, n_layers: int, w0):
    import circuits

    if peer in KETML_PEERS:
        qc, obs = ketml_circuit(n_qubits, n_layers)
        options = {
            "ketml_backprop": {"diff_method": "backprop", "dtype": "complex64"},
            "ketml_adjoint": {"diff_method": "adjoint", "dtype": "complex64"},
            "ketml_backprop_c128": {"diff_method": "backprop", "dtype": "complex128"},
        }[peer]
        return circuits.QuantumLayer(
            qc, obs, inputs="x", weights="theta", initial_weights=w0.detach().clone(), **options
        )
    if peer == "default_qubit":
        return PennyLaneLayer.build("default.qubit", "backprop", n_qubits, n_layers, w0)
    if peer == "lightning_qubit":
        return PennyLaneLayer.build("lightning.qubit", "adjoint", n_qubits, n_layers, w0)
    raise ValueError(f"unknown peer {peer!r}")


def lightning_batching(model, x) -> dict[str, Any]:
    """How lightning.qubit runs a broadcast batch: the number of tapes that reach the device."""
    import pennylane as pnl

    weights = model.weights.reshape(-1, x.shape[1], 3)
    try:
        tapes, _ = pnl.workflow.construct_batch(model.qnode, level="device")(x, weights)
    except Exception as exc:  # noqa: BLE001
        return {"device_tapes": None, "note": f"could not inspect: {_reason(exc)}"}
    n_tapes = len(tapes)
    native = n_tapes == 1 and getattr(tapes[0], "batch_size", None) == x.shape[0]
    note = (
        "runs the broadcast batch natively"
        if native
        else f"no native broadcasting: the batch is split into {n_tapes} tapes (one per sample)"
    )
    return {"device_tapes": n_tapes, "native_broadcasting": native, "note": note}


def crosscheck(n_qubits: int, n_layers: int, peers: list[str], *, batch: int, seed: int):
    """Outputs and weight gradients of every peer against ketml backprop on the same inputs
    and weights. Loss: mean over the batch of a fixed random combination of the outputs."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    n_w = 3 * n_layers * n_qubits
    x = torch.rand(batch, n_qubits, generator=gen) * math.pi
    w0 = torch.rand(n_w, generator=gen) * (2 * math.pi)
    coef = torch.randn(batch, n_qubits, generator=gen, dtype=torch.float64)
    results: dict[str, dict[str, Any]] = {}
    ref_out = ref_grad = None
    order = ["ketml_backprop"] + [p for p in peers if p != "ketml_backprop"]
    for peer in order:
        try:
            model = build_model(peer, n_qubits, n_layers, w0)
            out = model(x)
            loss = (out.to(torch.float64) * coef).sum() / batch
            loss.backward()
            out_d = out.detach().to(torch.float64)
            grad_d = model.weights.grad.detach().to(torch.float64)
        except Exception as exc:  # noqa: BLE001
            if peer == "ketml_backprop":
                raise
            results[peer] = {"status": "skipped", "reason": _reason(exc)}
            continue
        rec: dict[str, Any] = {"status": "ok", "output_dtype": str(out.dtype)}
        if peer == "ketml_backprop":
            ref_out, ref_grad = out_d, grad_d
            rec.update(max_abs_diff_outputs=0.0, max_abs_diff_grad=0.0)
        else:
            rec.update(
                max_abs_diff_outputs=float((out_d - ref_out).abs().max()),
                max_abs_diff_grad=float((grad_d - ref_grad).abs().max()),
            )
        rec["max_abs_diff"] = max(rec["max_abs_diff_outputs"], rec["max_abs_diff_grad"])
        rec["passed"] = rec["max_abs_diff"] < TOLERANCE
        results[peer] = rec
        del model
    checked = [r for r in results.values() if r["status"] == "ok"]
    summary = {
        "batch": batch,
        "tolerance": TOLERANCE,
        "reference": "ketml_backprop",
        "loss": "mean over batch of sum_i c[b, i] * <Z_i>[b], c ~ N(0, 1) fixed",
        "peers": results,
        "max_abs_diff": max(r["max_abs_diff"] for r in checked),
        "passed": all(r["passed"] for r in checked),
    }
    return summary


def make_step(model, x, target, lr: float = 1e-3) -> Callable[[], float]:
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step() -> float:
        opt.zero_grad()
        out = model(x)
        loss = torch.nn.functional.mse_loss(out.to(target.dtype), target)
        loss.backward()
        opt.step()
        return float(loss.detach())

    return step


def predicted_memory(peer: str, n_qubits: int, batch: int) -> int | None:
    """Bytes a peer is expected to need, where that is known to be large (default.qubit
    backprop keeps ~100 batched complex128 states); None where we rely on the peer's own
    check (ketml raises MemoryLimitError) or it is small (lightning: a few states per tape)."""
    if peer == "default_qubit":
        return DEFAULT_QUBIT_STATE_COPIES * batch * (2**n_qubits) * 16
    return None


def qnn_step_benchmark(args, n_qubits: int) -> dict[str, Any]:
    import torch

    peers = list(PEERS) + (["ketml_backprop_c128"] if args.ketml_complex128 else [])
    peers = [p for p in peers if p not in args.skip_peers]
    res: dict[str, Any] = {"n_qubits": n_qubits, "n_layers": args.layers, "batch": args.batch}
    res["n_weights"] = 3 * args.layers * n_qubits
    log(f"[qnn n={n_qubits}] cross-check ({', '.join(peers)})")
    check = crosscheck(n_qubits, args.layers, peers, batch=min(args.batch, args.check_batch), seed=args.seed)
    res["crosscheck"] = check
    for peer, rec in check["peers"].items():
        if rec["status"] == "ok":
            log(
                f"    {peer:22s} max|diff| outputs {rec['max_abs_diff_outputs']:.2e} "
                f"grad {rec['max_abs_diff_grad']:.2e}  {'ok' if rec['passed'] else 'MISMATCH'}"
            )
        else:
            log(f"    {peer:22s} not checked: {rec['reason']}")
    if not check["passed"]:
        bad = {p: r["max_abs_diff"] for p, r in check["peers"].items() if not r.get("passed", True)}
        raise CrossCheckError(f"n={n_qubits}: peers disagree with ketml beyond {TOLERANCE:g}: {bad}")

    gen = torch.Generator().manual_seed(args.seed + n_qubits)
    x = torch.rand(args.batch, n_qubits, generator=gen) * math.pi
    target = torch.rand(args.batch, n_qubits, generator=gen) * 2 - 1
    w0 = torch.rand(res["n_weights"], generator=gen) * (2 * math.pi)
    timings: dict[str, Any] = {}
    for peer in peers:
        if check["peers"].get(peer, {}).get("status") != "ok":
            timings[peer] = {"status": "skipped", "reason": check["peers"][peer]["reason"]}
            continue
        need = predicted_memory(peer, n_qubits, args.batch)
        avail = available_memory()
        if need is not None and avail and need > args.memory_fraction * avail:
            timings[peer] = {
                "status": "skipped",
                "reason": (
                    f"out of memory (predicted): needs about {need / 2**30:.1f} GiB "
                    f"(~{DEFAULT_QUBIT_STATE_COPIES} complex128 states of batch {args.batch}) "
                    f"> --memory-fraction {args.memory_fraction:g} of the "
                    f"{avail / 2**30:.1f} GiB available"
                ),
            }
            log(f"[qnn n={n_qubits}] {peer}: skipped, {timings[peer]['reason']}")
            continue
        try:
            model = build_model(peer, n_qubits, args.layers, w0)
        except Exception as exc:  # noqa: BLE001
            timings[peer] = {"status": "skipped", "reason": _reason(exc)}
            continue
        extra: dict[str, Any] = {}
        if peer == "lightning_qubit":
            extra["batching"] = lightning_batching(model, x)
        step = make_step(model, x, target)
        slow = n_qubits >= 16
        rec = time_call(
            step,
            repeats=args.repeats_slow if (slow and peer in PENNYLANE_PEERS) else args.repeats,
            warmup=args.warmup,
            budget_s=args.budget,
            total_budget_s=args.peer_total_budget,
        )
        rec.update(extra)
        timings[peer] = rec
        del model, step
        gc.collect()
        if rec["status"] == "ok":
            log(f"[qnn n={n_qubits}] {peer:22s} median {rec['median_s']:.4f} s ({rec['repeats']} repeats)")
        else:
            log(f"[qnn n={n_qubits}] {peer:22s} skipped: {rec['reason']}")
    res["peers"] = timings
    res["ratios"] = ratios(timings)
    res["target"] = target_verdict(n_qubits, timings)
    return res


def _median(rec: dict[str, Any] | None) -> float | None:
    if rec and rec.get("status") == "ok":
        return rec["median_s"]
    return None


def ratios(timings: dict[str, Any]) -> dict[str, Any]:
    """peer median / ketml median, against each ketml method and the faster of the two."""
    out: dict[str, Any] = {}
    kb, ka = _median(timings.get("ketml_backprop")), _median(timings.get("ketml_adjoint"))
    best = min((t for t in (kb, ka) if t is not None), default=None)
    refs = {"ketml_backprop": kb, "ketml_adjoint": ka, "ketml_best": best}
    for peer in PENNYLANE_PEERS:
        t = _median(timings.get(peer))
        out[peer] = {ref: (t / r if (t is not None and r) else None) for ref, r in refs.items()}
    out["ketml_best_method"] = None if best is None else ("backprop" if best == kb else "adjoint")
    out["ketml_adjoint_over_backprop"] = ka / kb if (ka and kb) else None
    return out


def target_verdict(n_qubits: int, timings: dict[str, Any]) -> dict[str, Any]:
    """Project target: ketml >= 5x faster than default.qubit for n <= 12, never slower above.
    ketml's time is the faster of its two diff methods. If default.qubit was skipped for time
    or memory while ketml ran, ketml is faster than it can be measured (a lower bound on the
    ratio is given where the budget gives one)."""
    need = 5.0 if n_qubits <= 12 else 1.0
    kb, ka = _median(timings.get("ketml_backprop")), _median(timings.get("ketml_adjoint"))
    best = min((t for t in (kb, ka) if t is not None), default=None)
    dq = timings.get("default_qubit") or {}
    verdict: dict[str, Any] = {"required_ratio": need, "ketml_s": best}
    if best is None:
        verdict.update(passed=False, ratio=None, note="ketml did not run")
    elif dq.get("status") == "ok":
        r = dq["median_s"] / best
        verdict.update(passed=r >= need, ratio=r, note="")
    else:
        reason = dq.get("reason", "not run")
        bound = dq.get("budget_s") / best if reason.startswith("timeout") else None
        ok = reason.startswith("timeout") or reason.startswith("out of memory")
        verdict.update(
            passed=ok and (bound is None or bound >= need),
            ratio=None,
            ratio_lower_bound=bound,
            note=f"default.qubit skipped ({reason.split(':')[0]})",
        )
    return verdict


# ------------------------------------------------------------------------------ throughput


def throughput_circuit(n_qubits: int, n_layers: int, seed: int):
    """Fixed random layered circuit: per layer RX, RY, RZ on every qubit, then CX(i, i+1)."""
    import numpy as np
    from qiskit import QuantumCircuit

    rng = np.random.default_rng(seed)
    qc = QuantumCircuit(n_qubits, name=f"layered_{n_qubits}")
    for _ in range(n_layers):
        for q in range(n_qubits):
            a, b, c = rng.uniform(0, 2 * np.pi, 3)
            qc.rx(a, q)
            qc.ry(b, q)
            qc.rz(c, q)
        for q in range(n_qubits - 1):
            qc.cx(q, q + 1)
    return qc


def throughput_benchmark(args, n_qubits: int, precision: str) -> dict[str, Any]:
    import numpy as np
    import torch
    from qiskit import transpile
    from qiskit_aer import AerSimulator

    import circuits

    dtype = {"single": "complex64", "double": "complex128"}[precision]
    qc = throughput_circuit(n_qubits, args.throughput_layers, args.seed)
    gates = qc.size()
    state_bytes = (2**n_qubits) * (8 if precision == "single" else 16)
    res: dict[str, Any] = {
        "n_qubits": n_qubits,
        "precision": precision,
        "layers": args.throughput_layers,
        "gates": gates,
        "state_bytes": state_bytes,
    }
    repeats = args.repeats if n_qubits < 24 else max(2, min(args.repeats, 3))
    keep: dict[str, Any] = {}

    def ketml_run():
        with torch.no_grad():
            keep["ketml"] = circuits.statevector(qc, engine="torch", dtype=dtype)

    sim = AerSimulator(method="statevector", precision=precision, max_parallel_threads=args.threads)
    qc_aer = qc.copy()
    qc_aer.save_statevector()
    tqc = transpile(qc_aer, sim, optimization_level=0)

    def aer_run():
        result = sim.run(tqc).result()
        keep["aer"] = result.get_statevector(tqc)

    for name, fn in (("ketml", ketml_run), ("aer", aer_run)):
        log(f"[throughput n={n_qubits} {precision}] {name}")
        rec = time_call(
            fn,
            repeats=repeats,
            warmup=args.warmup,
            budget_s=args.budget,
            total_budget_s=args.peer_total_budget,
        )
        if rec["status"] == "ok":
            rec["bandwidth_GBps"] = gates * 2 * state_bytes / rec["median_s"] / 1e9
            log(f"    median {rec['median_s']:.4f} s, {rec['bandwidth_GBps']:.1f} GB/s effective")
        else:
            log(f"    skipped: {rec['reason']}")
        res[name] = rec
    if res["ketml"]["status"] == "ok" and res["aer"]["status"] == "ok":
        res["aer_over_ketml"] = res["aer"]["median_s"] / res["ketml"]["median_s"]
        a = keep["ketml"].reshape(-1).cpu().numpy().astype(np.complex128)
        b = np.asarray(keep["aer"].data, dtype=np.complex128)
        res["fidelity"] = float(abs(np.vdot(b, a)) ** 2)
        if n_qubits <= args.fidelity_max_qubits and res["fidelity"] <= 0.999:
            raise CrossCheckError(
                f"throughput n={n_qubits} {precision}: ketml and Aer states differ "
                f"(fidelity {res['fidelity']:.6f})"
            )
    keep.clear()
    gc.collect()
    return res


# ------------------------------------------------------------------------------ reporting


def _fmt_s(rec: dict[str, Any] | None) -> str:
    if not rec:
        return "-"
    if rec.get("status") == "ok":
        t = rec["median_s"]
        return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"
    reason = rec.get("reason", "")
    if reason.startswith("timeout"):
        return f"skipped (> {rec.get('budget_s', 0):g} s)"
    if reason.startswith("out of memory (predicted)"):
        return "skipped (OOM, predicted)"
    if reason.startswith("out of memory"):
        return "skipped (OOM)"
    return f"skipped ({reason.split(':')[0] or 'error'})"


def _fmt_peer_ratio(rec: dict[str, Any] | None, ratio: float | None, best: float | None) -> str:
    """peer / ketml, or a lower bound when the peer ran past its time budget."""
    if ratio is not None:
        return _fmt_ratio(ratio)
    if rec and str(rec.get("reason", "")).startswith("timeout") and best:
        return f">{rec['budget_s'] / best:.0f}x"
    return "n/a"


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


def markdown(report: dict[str, Any]) -> str:
    lines: list[str] = []
    m = report["machine"]
    cfg = report["config"]
    lines.append("# Engine benchmark")
    lines.append("")
    lines.append(
        f"{m['cpu_model']}, {m['cpu_count']} cores, torch threads {m['torch_threads']}; "
        f"torch {m['versions']['torch']}, pennylane {m['versions']['pennylane']} "
        f"(lightning {m['versions']['pennylane_lightning']}), qiskit-aer "
        f"{m['versions']['qiskit-aer']}; {m['date_utc']}; load average at start "
        f"{', '.join(f'{x:.1f}' for x in m['load_average_start'] or [])}."
    )
    if report.get("qnn_step"):
        lines.append("")
        lines.append(
            f"## Hybrid-QNN training step (batch {cfg['batch']}, {cfg['layers']} strongly "
            "entangling layers, RX encoding, <Z> on every qubit; median seconds per step)"
        )
        lines.append("")
        extra = "ketml_backprop_c128" in {p for r in report["qnn_step"] for p in r.get("peers", {})}
        head = ["n", "ketml backprop", "ketml adjoint"]
        if extra:
            head.append("ketml backprop c128")
        head += [
            "default.qubit",
            "lightning.qubit",
            "default.qubit / ketml",
            "lightning / ketml",
            "max abs diff",
            "target",
        ]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for r in report["qnn_step"]:
            p, rat, tgt = r["peers"], r["ratios"], r["target"]
            best = rat["ketml_best_method"]
            tag = {"backprop": "bp", "adjoint": "adj", None: "?"}[best]
            kb, ka = _median(p.get("ketml_backprop")), _median(p.get("ketml_adjoint"))
            best_s = min((t for t in (kb, ka) if t is not None), default=None)
            dq_txt = _fmt_peer_ratio(p.get("default_qubit"), rat["default_qubit"]["ketml_best"], best_s)
            lq_txt = _fmt_peer_ratio(p.get("lightning_qubit"), rat["lightning_qubit"]["ketml_best"], best_s)
            verdict = ("PASS" if tgt["passed"] else "FAIL") + f" (>= {tgt['required_ratio']:g}x)"
            row = [
                str(r["n_qubits"]),
                _fmt_s(p.get("ketml_backprop")),
                _fmt_s(p.get("ketml_adjoint")),
            ]
            if extra:
                row.append(_fmt_s(p.get("ketml_backprop_c128")))
            row += [
                _fmt_s(p.get("default_qubit")),
                _fmt_s(p.get("lightning_qubit")),
                f"{dq_txt} ({tag})",
                f"{lq_txt} ({tag})",
                f"{r['crosscheck']['max_abs_diff']:.1e}",
                verdict,
            ]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        lines.append(
            "Ratios are peer time / ketml time, ketml being the faster of its two diff methods "
            "(bp = backprop, adj = adjoint). Target: ketml >= 5x faster than default.qubit for "
            "n <= 12, never slower above. max abs diff: largest difference of outputs and "
            f"weight gradients of any peer against ketml backprop (tolerance {TOLERANCE:g})."
        )
        notes = []
        batching: dict[str, list[str]] = {}
        for r in report["qnn_step"]:
            for peer, rec in r["peers"].items():
                if rec.get("status") != "ok":
                    notes.append(f"- n={r['n_qubits']} {PEER_LABELS.get(peer, peer)}: {rec['reason']}")
            light = r["peers"].get("lightning_qubit", {}).get("batching")
            if light:
                batching.setdefault(light["note"], []).append(str(r["n_qubits"]))
        for note, ns in batching.items():
            notes.append(f"- lightning.qubit (n={', '.join(ns)}): {note}")
        if notes:
            lines.append("")
            lines.extend(notes)
    if report.get("throughput"):
        lines.append("")
        lines.append(
            f"## State-vector throughput (batch 1, {cfg['throughput_layers']} layers of "
            "RX/RY/RZ on every qubit + CX ladder)"
        )
        lines.append("")
        head = [
            "n",
            "precision",
            "gates",
            "state MiB",
            "ketml s",
            "Aer s",
            "Aer / ketml",
            "ketml GB/s",
            "Aer GB/s",
            "fidelity",
        ]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for r in report["throughput"]:
            k, a = r["ketml"], r["aer"]
            row = [
                str(r["n_qubits"]),
                r["precision"],
                str(r["gates"]),
                f"{r['state_bytes'] / 2**20:.3g}",
                f"{k['median_s']:.3f}" if k["status"] == "ok" else _fmt_s(k),
                f"{a['median_s']:.3f}" if a["status"] == "ok" else _fmt_s(a),
                _fmt_ratio(r.get("aer_over_ketml")),
                f"{k['bandwidth_GBps']:.1f}" if k["status"] == "ok" else "-",
                f"{a['bandwidth_GBps']:.1f}" if a["status"] == "ok" else "-",
                f"{r['fidelity']:.6f}" if "fidelity" in r else "-",
            ]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        lines.append(
            "Effective bandwidth = gates x 2 x state bytes / seconds, counting the circuit's "
            "gates as written; both simulators fuse gates, so this can exceed the memory's "
            "real bandwidth."
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ driver


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="engine_bench",
        description=(
            "Benchmark ketml's torch engine against PennyLane (default.qubit, lightning.qubit) "
            "on a hybrid-QNN training step, and against Qiskit Aer on state-vector throughput. "
            "Writes engine_bench.json and engine_bench.md under --out."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--qubits",
        type=int,
        nargs="+",
        default=None,
        help="QNN qubit counts (default 4 8 12 16; --quick: 4)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed steps per measurement, median reported (default 5; --quick: 2)",
    )
    p.add_argument(
        "--repeats-slow", type=int, default=3, help="timed steps for PennyLane peers at 16+ qubits"
    )
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up calls")
    p.add_argument("--batch", type=int, default=None, help="QNN batch size (default 256; --quick: 32)")
    p.add_argument("--layers", type=int, default=4, help="strongly entangling layers")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: n=4, 2 repeats, batch 32, throughput at 10 and 12 qubits",
    )
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="output folder")
    p.add_argument("--skip-throughput", action="store_true", help="skip the Aer throughput part")
    p.add_argument("--skip-qnn", action="store_true", help="skip the QNN training-step part")
    p.add_argument("--skip-peers", nargs="*", default=[], choices=list(PEERS), help="QNN peers to leave out")
    p.add_argument(
        "--ketml-complex128",
        action="store_true",
        help="also time ketml backprop in complex128 (the PennyLane peers run complex128)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch / OpenMP / Aer threads (default: all usable cores)",
    )
    p.add_argument(
        "--throughput-qubits",
        type=int,
        nargs="+",
        default=None,
        help="throughput qubit counts (default 20 24; --quick: 10 12)",
    )
    p.add_argument("--throughput-layers", type=int, default=10, help="layers of the throughput circuit")
    p.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds one step may take before the peer is recorded as skipped",
    )
    p.add_argument(
        "--peer-total-budget",
        type=float,
        default=300.0,
        help="seconds of timed steps per peer and size; fewer repeats beyond it",
    )
    p.add_argument("--check-batch", type=int, default=16, help="batch of the cross-check")
    p.add_argument(
        "--fidelity-max-qubits",
        type=int,
        default=20,
        help="throughput sizes up to this must agree with Aer (fidelity > 0.999)",
    )
    p.add_argument(
        "--memory-fraction",
        type=float,
        default=0.6,
        help="fraction of available RAM a peer is predicted to need before it is skipped",
    )
    p.add_argument(
        "--omp-wait-policy",
        default="PASSIVE",
        help="OMP_WAIT_POLICY for the process (torch and lightning each bring an OpenMP "
        "runtime; spinning threads of one starve the other); 'keep' leaves it alone",
    )
    p.add_argument(
        "--no-memory-cap",
        action="store_true",
        help="do not cap the address space (then an OOM may kill the run)",
    )
    p.add_argument("--seed", type=int, default=1234)
    args = p.parse_args(argv)
    if args.qubits is None:
        args.qubits = [4] if args.quick else [4, 8, 12, 16]
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.batch is None:
        args.batch = 32 if args.quick else 256
    if args.throughput_qubits is None:
        args.throughput_qubits = [10, 12] if args.quick else [20, 24]
    if args.threads is None:
        try:
            args.threads = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover
            args.threads = os.cpu_count() or 1
    if args.quick:
        args.repeats_slow = min(args.repeats_slow, args.repeats)
    return args


@contextlib.contextmanager
def configured_environment(args: argparse.Namespace):
    """Thread settings for the run (OpenMP variables only reach runtimes not loaded yet);
    restored afterwards, so that calling ``run`` from a test leaves the process as it was."""
    import torch

    saved_env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    saved_threads = torch.get_num_threads()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.omp_wait_policy.lower() != "keep":
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    torch.set_num_threads(args.threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved_threads)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmarks described by ``args``; write and return the report."""
    with configured_environment(args):
        return _run(args)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    cap = None if args.no_memory_cap else cap_address_space(0.9)
    report: dict[str, Any] = {
        "benchmark": "engine_bench",
        "schema_version": SCHEMA_VERSION,
        "machine": machine_info(args.threads),
        "config": {
            "qubits": args.qubits,
            "batch": args.batch,
            "layers": args.layers,
            "repeats": args.repeats,
            "repeats_slow": args.repeats_slow,
            "warmup": args.warmup,
            "quick": args.quick,
            "threads": args.threads,
            "budget_s": args.budget,
            "peer_total_budget_s": args.peer_total_budget,
            "throughput_qubits": [] if args.skip_throughput else args.throughput_qubits,
            "throughput_layers": args.throughput_layers,
            "ketml_dtype": "complex64",
            "step": "optimizer.zero_grad(); out = layer(x); mse_loss(out, target).backward(); "
            "optimizer.step()  (SGD, lr 1e-3)",
            "address_space_cap_bytes": cap,
            "seed": args.seed,
            "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        },
        "qnn_step": [],
        "throughput": [],
    }
    t_start = time.perf_counter()
    if not args.skip_qnn:
        for n in args.qubits:
            report["qnn_step"].append(qnn_step_benchmark(args, n))
    if not args.skip_throughput:
        for n in args.throughput_qubits:
            for precision in ("single", "double"):
                report["throughput"].append(throughput_benchmark(args, n, precision))
    report["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    report["machine"]["torch_threads_end"] = torch.get_num_threads()
    report["wall_s"] = time.perf_counter() - t_start
    report["crosscheck_passed"] = all(r["crosscheck"]["passed"] for r in report["qnn_step"])
    report["crosscheck_max_abs_diff"] = max(
        (r["crosscheck"]["max_abs_diff"] for r in report["qnn_step"]), default=None
    )
    report["target_passed"] = all(r["target"]["passed"] for r in report["qnn_step"])
    md = markdown(report)
    report["markdown"] = md
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine_bench.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "engine_bench.md").write_text(md)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = run(args)
    except CrossCheckError as exc:
        print(f"CROSS-CHECK FAILED: {exc}", file=sys.stderr, flush=True)
        return 2
    print()
    print(report["markdown"], flush=True)
    print(f"wrote {Path(args.out) / 'engine_bench.json'} and {Path(args.out) / 'engine_bench.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
