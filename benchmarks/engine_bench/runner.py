"""Running the engine benchmark: thread settings, the parts in order, the report written to
``<out>/engine_bench.json`` and ``<out>/engine_bench.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.harness import cap_address_space, machine_info, package_version, write_results
from benchmarks.harness.peers import clear_engine_status, ketml_engine_status

from .peers import PEER_INFO, SHIFT_PEERS
from .qnn_step import qnn_step_benchmark, shift_batch
from .report import markdown
from .simulators import SIM_INFO
from .throughput import gpu_throughput_benchmark, throughput_benchmark

#: version of the JSON layout (2: the peers and simulators as columns; 1 had ketml and Aer only)
SCHEMA_VERSION = 2
#: the versions listed under ``machine.versions``: name -> distributions to look for, first found
VERSIONS = {
    "torch": ("torch",),
    "pennylane": ("pennylane",),
    "pennylane_lightning": ("pennylane_lightning",),
    "qiskit": ("qiskit",),
    "qiskit-aer": ("qiskit-aer",),
    "qiskit-machine-learning": ("qiskit-machine-learning",),
    "cudaq": ("cudaq", "cuda-quantum-cu13", "cuda-quantum-cu12"),
    "numpy": ("numpy",),
    "ketml": ("ketml",),
}


@contextlib.contextmanager
def configured_environment(args: argparse.Namespace) -> Iterator[None]:
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
        "machine": machine_info(
            args.threads, {name: package_version(*dists) for name, dists in VERSIONS.items()}
        ),
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
            "throughput_skip_above_s": args.throughput_skip_above,
            "skip_peers": args.skip_peers,
            "skip_simulators": args.skip_simulators,
            "shift_peers": list(SHIFT_PEERS),
            "shift_batch": shift_batch(args),
            "shift_repeats": args.shift_repeats,
            "shift_check_batch": args.shift_check_batch,
            "shift_max_qubits": args.shift_max_qubits,
            "qiskit_ml_estimator": args.qiskit_ml_estimator,
            "check_batch": args.check_batch,
            "gpu": args.gpu,
            "gpu_qubits": args.gpu_qubits if args.gpu else [],
            "peer_info": PEER_INFO,
            "simulator_info": SIM_INFO,
            "ketml_dtype": "complex64",
            "step": "optimizer.zero_grad(); out = layer(x); mse_loss(out, target).backward(); "
            "optimizer.step()  (SGD, lr 1e-3)",
            "address_space_cap_bytes": cap,
            "seed": args.seed,
            "command": " ".join(["python -m benchmarks.engine_bench"] + sys.argv[1:]),
        },
        "qnn_step": [],
        "throughput": [],
        "gpu_throughput": [],
    }
    clear_engine_status()
    report["machine"]["engines"] = {
        name: ketml_engine_status(name) for name in ("torch", "pennylane", "aer", "cudaq")
    }
    t_start = time.perf_counter()
    if not args.skip_qnn:
        for n in args.qubits:
            report["qnn_step"].append(qnn_step_benchmark(args, n))
    if not args.skip_throughput:
        history: dict[tuple[str, str], tuple[int, float]] = {}
        for n in args.throughput_qubits:
            for precision in ("single", "double"):
                report["throughput"].append(throughput_benchmark(args, n, precision, history))
    if args.gpu:
        history = {}
        for n in args.gpu_qubits:
            for precision in ("single", "double"):
                report["gpu_throughput"].append(gpu_throughput_benchmark(args, n, precision, history))
    report["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    report["machine"]["torch_threads_end"] = torch.get_num_threads()
    report["wall_s"] = time.perf_counter() - t_start
    report["crosscheck_passed"] = all(r["crosscheck"]["passed"] for r in report["qnn_step"])
    report["crosscheck_peers"] = sorted(
        {p for r in report["qnn_step"] for p, c in r["crosscheck"]["peers"].items() if c["status"] == "ok"}
    )
    report["crosscheck_max_abs_diff"] = max(
        (r["crosscheck"]["max_abs_diff"] for r in report["qnn_step"]), default=None
    )
    report["target_passed"] = all(r["target"]["passed"] for r in report["qnn_step"])
    md = markdown(report)
    report["markdown"] = md
    write_results(Path(args.out), "engine_bench", report, md)
    return report
