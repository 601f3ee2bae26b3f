"""QFWP forward + backward: ketml's torch engine against the same model on PennyLane
``default.qubit`` with parameter broadcasting (the fast peer: the paper's code loops over the
batch, which is slower still), in one process.

Both models share the slow programmer and post-processing weights; the outputs are checked to
agree before timing. Batch 32 sequences of length 8 (the issue's setting), 8 qubits, depth 2.

    .venv/bin/python benchmarks/qfwp_speed.py            # writes results/qfwp_speed.{json,md}
    .venv/bin/python benchmarks/qfwp_speed.py --quick --out /tmp
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# OpenMP's wait policy is left as the user has it (recorded with the machine): with PASSIVE
# every parallel region pays a thread wake-up, about 2x a 4-qubit step on two threads; set
# OMP_WAIT_POLICY=PASSIVE yourself on a machine shared with other jobs, where spinning hurts.

import torch  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks.harness import (  # noqa: E402
    add_out,
    add_quick,
    add_threads,
    machine_summary,
    markdown_table,
    max_abs_diff,
    median,
    new_parser,
    require_agreement,
    run_main,
    time_repeats,
    write_results,
)


class PennyLaneQFWP(nn.Module):
    """The QFWP cell with the fast programmer as a broadcast PennyLane QNode; shares ``ours``' layers."""

    def __init__(self, ours, loop: bool = False):
        super().__init__()
        import pennylane as pnl

        self.ours = ours
        n, depth, s_dim = ours.n_qubits, ours.depth, ours.s_dim
        a_dim = ours.post.in_features
        dev = pnl.device("default.qubit", wires=n)

        @pnl.qnode(dev, interface="torch", diff_method="backprop")
        def net(x, theta):
            for q in range(n):
                pnl.Hadamard(wires=q)
            for i in range(s_dim):
                pnl.RY(x[..., i], wires=i)
            for k in range(depth):
                for start in (0, 1):
                    for q in range(start, n - 1, 2):
                        pnl.CNOT(wires=[q, q + 1])
                for q in range(n):
                    pnl.RY(theta[..., k, q], wires=q)
            return [pnl.expval(pnl.PauliZ(q)) for q in range(a_dim)]

        self.net = net
        self.loop = loop

    def forward(self, x):
        m = self.ours
        b, t_len, _ = x.shape
        theta = x.new_zeros(b, m.depth, m.n_qubits)
        outs = []
        for t in range(t_len):
            h = m.encoder(x[:, t])
            theta = theta + m.layer_head(h).unsqueeze(2) * m.qubit_head(h).unsqueeze(1)
            if self.loop:
                q = torch.stack([torch.stack(self.net(x[i, t], theta[i])) for i in range(b)])
            else:
                q = torch.stack(self.net(x[:, t], theta), dim=1)
            outs.append(m.post(q.to(x.dtype)))
        return torch.stack(outs, dim=1)


def step(model, x, y) -> None:
    """Forward and backward of the MSE on the last time step (what is timed)."""
    out = model(x)
    loss = (out[:, -1] - y).pow(2).mean()
    loss.backward()


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    add_threads(parser)
    parser.add_argument("--with-loop", action="store_true", help="also time the paper's per-sample loop")
    add_quick(parser, help="3 repeats")
    add_out(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 3
    if args.threads:
        torch.set_num_threads(args.threads)
    from qml.sequence.qfwp import QFWP

    torch.manual_seed(0)
    x = torch.rand(args.batch, args.length, 1, dtype=torch.float64)
    y = torch.rand(args.batch, 1, dtype=torch.float64)
    # float64 throughout, as in the paper's code (and PennyLane's default)
    reference = QFWP(dtype="complex128").double()
    peers = {"ketml torch engine": reference}
    peers["PennyLane default.qubit, broadcast"] = PennyLaneQFWP(reference)
    if args.with_loop:
        peers["PennyLane default.qubit, per-sample loop (paper)"] = PennyLaneQFWP(reference, loop=True)
    with torch.no_grad():
        diff = max_abs_diff(peers["PennyLane default.qubit, broadcast"](x), reference(x))
    print(f"max |output(ketml) - output(PennyLane)| = {diff:.2e}")
    require_agreement("QFWP's outputs in ketml and PennyLane", diff, 1e-6)
    # one untimed warm-up step each (compilation, caches), then rounds of one step per peer, so
    # that the load of a shared machine falls on every peer alike
    load_start = os.getloadavg()
    times = {label: [] for label in peers}
    for model in peers.values():
        time_repeats(lambda model=model: step(model, x, y), repeats=0, warmup=1)
    for _ in range(args.repeats):
        for label, model in peers.items():
            times[label] += time_repeats(lambda model=model: step(model, x, y), repeats=1, warmup=0)
    for label in peers:
        print(f"{label:50s} median {median(times[label]) * 1e3:8.1f} ms")
    base = median(times["PennyLane default.qubit, broadcast"])
    rows = [
        {
            "peer": k,
            "median_ms": median(v) * 1e3,
            "times_s": v,
            "speedup_vs_pennylane_broadcast": base / median(v),
        }
        for k, v in times.items()
    ]
    result = {
        "benchmark": "QFWP forward+backward, MSE on the last step",
        "batch": args.batch,
        "length": args.length,
        "n_qubits": 8,
        "depth": 2,
        "agreement": diff,
        "rows": rows,
        "target_speedup": 5.0,
        "machine": machine_summary("torch", "pennylane", threads=True),
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "timing": "interleaved: one step of each peer in turn, --repeats rounds after one warm-up step each",
        "command": "benchmarks/qfwp_speed.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    lines = [
        f"# QFWP forward+backward, batch {args.batch} x length {args.length}, 8 qubits",
        "",
        f"median of {args.repeats} steps timed interleaved (one step of each peer in turn); "
        f"{torch.get_num_threads()} torch threads; outputs agree to {diff:.1e}; load average "
        f"{result['load_average']['start'][0]:.2f} at start, {result['load_average']['end'][0]:.2f} at end "
        "(shared machine: the ratio is the result).",
        "",
    ]
    table = [
        [r["peer"], f"{r['median_ms']:.1f}", f"{r['speedup_vs_pennylane_broadcast']:.1f}x"] for r in rows
    ]
    lines += markdown_table(["peer", "median ms", "speed-up vs PennyLane broadcast"], table)
    write_results(args.out, "qfwp_speed", result, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
