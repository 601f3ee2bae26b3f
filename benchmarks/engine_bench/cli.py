"""The engine benchmark's command line: ``python -m benchmarks.engine_bench --help``."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.harness import add_out, add_quick, add_threads, new_parser, run_main
from benchmarks.harness.machine import usable_cpus

from .peers import PEERS
from .runner import run
from .simulators import GPU_SIMS, THROUGHPUT_SIMS

DESCRIPTION = (
    "Benchmark ketml's torch engine against PennyLane (default.qubit, lightning.qubit), "
    "the same QuantumLayer on ketml's pennylane / aer / cudaq engines and Qiskit Machine "
    "Learning's EstimatorQNN on a hybrid-QNN training step, and against Aer, lightning, "
    "default.qubit and CUDA-Q on state-vector throughput (--gpu: GPU simulators too). "
    "Writes engine_bench.json and engine_bench.md under --out."
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options (``--help`` lists them), with the defaults that depend on ``--quick`` filled in."""
    p = new_parser(DESCRIPTION, prog="engine_bench", defaults_in_help=True)
    p.add_argument(
        "--qubits",
        type=int,
        nargs="+",
        default=None,
        help="QNN qubit counts (default 4 8 12; --quick: 4)",
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
    add_quick(p, help="smoke run: n=4, 2 repeats, batch 32, shift batch 2, throughput at 10 and 12 qubits")
    add_out(p, help="output folder")
    p.add_argument("--skip-throughput", action="store_true", help="skip the Aer throughput part")
    p.add_argument("--skip-qnn", action="store_true", help="skip the QNN training-step part")
    p.add_argument(
        "--skip-peers",
        nargs="*",
        default=[],
        choices=list(PEERS),
        help="QNN peers to leave out (e.g. qiskit_ml, the slowest, in a smoke run)",
    )
    p.add_argument(
        "--skip-simulators",
        nargs="*",
        default=[],
        choices=[s for s in THROUGHPUT_SIMS + GPU_SIMS if s not in ("ketml", "torch_cuda")],
        help="throughput simulators to leave out",
    )
    p.add_argument(
        "--shift-max-qubits",
        type=int,
        default=12,
        help="parameter-shift QNN peers (ketml_aer, ketml_cudaq, qiskit_ml) are skipped as too "
        "slow above this many qubits",
    )
    p.add_argument(
        "--shift-batch",
        type=int,
        default=None,
        help="batch of the parameter-shift QNN peers, timed against ketml on the same batch "
        "(default 8; --quick: 2; at most --batch)",
    )
    p.add_argument(
        "--shift-repeats", type=int, default=2, help="timed steps of the parameter-shift QNN peers (at most)"
    )
    p.add_argument(
        "--shift-check-batch",
        type=int,
        default=1,
        help="cross-check batch of the parameter-shift QNN peers",
    )
    p.add_argument(
        "--qiskit-ml-estimator",
        choices=["aer", "statevector"],
        default="aer",
        help="Estimator V2 under qiskit-ml's EstimatorQNN: qiskit_aer.primitives.EstimatorV2 or "
        "qiskit.primitives.StatevectorEstimator",
    )
    p.add_argument(
        "--ketml-complex128",
        action="store_true",
        help="also time ketml backprop in complex128 (the PennyLane peers run complex128)",
    )
    add_threads(p, help="torch / OpenMP / Aer threads (default: all usable cores)")
    p.add_argument(
        "--throughput-qubits",
        type=int,
        nargs="+",
        default=None,
        help="throughput qubit counts (default 20 24; --quick: 10 12)",
    )
    p.add_argument("--throughput-layers", type=int, default=10, help="layers of the throughput circuit")
    p.add_argument(
        "--throughput-skip-above",
        type=float,
        default=60.0,
        help="skip a throughput simulator predicted (from its time at a smaller size, or a probe "
        "4 qubits smaller) to take more than this many seconds per state",
    )
    p.add_argument(
        "--gpu",
        action="store_true",
        help="also time the GPU simulators (torch CUDA, lightning.gpu, Aer GPU, CUDA-Q nvidia) at "
        "--gpu-qubits; each is recorded as skipped with the reason where it cannot run",
    )
    p.add_argument(
        "--gpu-qubits", type=int, nargs="+", default=[20, 24, 28], help="GPU throughput qubit counts"
    )
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
        help="throughput sizes up to this: every simulator's state must agree with ketml's "
        "(fidelity > 0.999) or the run aborts",
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
        args.qubits = [4] if args.quick else [4, 8, 12]
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.batch is None:
        args.batch = 32 if args.quick else 256
    if args.throughput_qubits is None:
        args.throughput_qubits = [10, 12] if args.quick else [20, 24]
    args.throughput_qubits = sorted(args.throughput_qubits)
    args.gpu_qubits = sorted(args.gpu_qubits)
    if args.shift_batch is None:
        args.shift_batch = 2 if args.quick else 8
    if args.threads is None:
        args.threads = usable_cpus()
    if args.quick:
        args.repeats_slow = min(args.repeats_slow, args.repeats)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables; a failed cross-check raises ``CrossCheckError``."""
    args = parse_args(argv)
    report = run(args)
    print()
    print(report["markdown"], flush=True)
    print(f"wrote {Path(args.out) / 'engine_bench.json'} and {Path(args.out) / 'engine_bench.md'}")
    return 0


def entry_point(argv: list[str] | None = None) -> int:
    """``main`` with a failed cross-check reported as ``CROSS-CHECK FAILED`` and exit status 2."""
    return run_main(main, argv)
