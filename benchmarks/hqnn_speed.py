"""Training throughput of HQNN-Parallel: ketml (torch engine) against the same model built with
PennyLane ``TorchLayer`` on ``default.qubit`` (backprop, broadcasting), in one process.

Both models share every weight (the PennyLane circuits get ketml's quantum weights, the
classical layers are the same modules), and their logits are checked to agree before timing.
One "epoch" is ``--samples`` MNIST images (the real files via ``KETML_DATA``, random images if
absent) at each batch size; the figure is samples per second, median over ``--repeats`` epochs.

    .venv/bin/python benchmarks/hqnn_speed.py                  # writes results/hqnn_speed.{json,md}
    .venv/bin/python benchmarks/hqnn_speed.py --quick --out /tmp
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
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
    write_results,
)


class PennyLaneParallel(nn.Module):
    """HQNN-Parallel's quantum block as PennyLane TorchLayers (the peers' way of writing it)."""

    def __init__(self, n_circuits: int, n_qubits: int, n_layers: int, weights: torch.Tensor):
        super().__init__()
        import pennylane as pnl

        dev = pnl.device("default.qubit", wires=n_qubits)
        ranges = [(layer % (n_qubits - 1)) + 1 for layer in range(n_layers)]

        @pnl.qnode(dev, interface="torch", diff_method="backprop")
        def circuit(inputs, weights):
            pnl.AngleEmbedding(inputs, wires=range(n_qubits), rotation="X")
            pnl.StronglyEntanglingLayers(weights, wires=range(n_qubits), ranges=ranges)
            return [pnl.expval(pnl.PauliY(i)) for i in range(n_qubits)]

        self.n_qubits = n_qubits
        self.layers = nn.ModuleList()
        for g in range(n_circuits):
            layer = pnl.qnn.TorchLayer(circuit, {"weights": (n_layers, n_qubits, 3)})
            with torch.no_grad():
                layer.weights.copy_(weights[g].reshape(n_layers, n_qubits, 3))
            self.layers.append(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        groups = x.split(self.n_qubits, dim=1)
        return torch.cat([layer(g) for layer, g in zip(self.layers, groups, strict=True)], dim=1)


def pennylane_twin(model):
    """A deep copy of ``model`` whose quantum block is the PennyLane version with the same weights."""
    twin = copy.deepcopy(model)
    q = model.quantum
    n_qubits = q.layer.n_qubits
    n_layers = q.layer.n_weights // (3 * n_qubits)
    twin.quantum = PennyLaneParallel(q.copies, n_qubits, n_layers, q.weights.detach())
    return twin


def images(n: int, seed: int):
    try:
        import data as datasets

        ds = datasets.load_mnist("train", download=False).subset(n, seed=seed)
        return (*ds.tensors(), "mnist")
    except Exception as exc:  # no local MNIST: random images of the same shape
        print(f"MNIST not available ({exc}); timing on random images")
        g = torch.Generator().manual_seed(seed)
        return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g), "random"


def epoch(model, x, y, batch_size: int) -> float:
    """Seconds of one training epoch (forward, backward, Adam) of ``model`` over ``(x, y)``."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    t0 = time.perf_counter()
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        if len(xb) < 2:
            continue
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--samples", type=int, default=1024, help="images per timed epoch")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[4, 32, 64])
    parser.add_argument("--repeats", type=int, default=3)
    add_threads(parser)
    parser.add_argument("--seed", type=int, default=0)
    add_quick(parser, help="256 samples, batch 32, 1 repeat")
    add_out(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.batch_sizes, args.repeats = 256, [32], 1
    if args.threads:
        torch.set_num_threads(args.threads)
    from qml.vision import HQNNParallel

    torch.manual_seed(args.seed)
    ours = HQNNParallel()
    peer = pennylane_twin(ours)
    x, y, source = images(args.samples, args.seed)
    ours.eval()
    peer.eval()
    with torch.no_grad():
        diff = max_abs_diff(ours(x[:16]), peer(x[:16]))
    print(f"max |logits(ketml) - logits(PennyLane)| on 16 images: {diff:.2e}")
    require_agreement("HQNN-Parallel's logits in ketml and PennyLane", diff, 1e-4)
    rows = []
    for bs in args.batch_sizes:
        times = {"ketml": [], "pennylane": []}
        for _ in range(args.repeats):
            for name, model in (("ketml", copy.deepcopy(ours)), ("pennylane", pennylane_twin(ours))):
                times[name].append(epoch(model, x, y, bs))
        med = {k: median(v) for k, v in times.items()}
        row = {
            "batch_size": bs,
            "samples": len(x),
            "ketml_samples_per_s": len(x) / med["ketml"],
            "pennylane_samples_per_s": len(x) / med["pennylane"],
            "speedup": med["pennylane"] / med["ketml"],
            "times_s": times,
        }
        rows.append(row)
        print(
            f"batch {bs:>3}: ketml {row['ketml_samples_per_s']:8.1f} samples/s, PennyLane "
            f"{row['pennylane_samples_per_s']:8.1f} samples/s, speed-up {row['speedup']:.1f}x"
        )
    result = {
        "benchmark": "HQNN-Parallel training epoch (forward, backward, Adam step), MNIST 28x28",
        "data": source,
        "logit_agreement": diff,
        "rows": rows,
        "target_speedup": 5.0,
        "machine": machine_summary("torch", "pennylane", threads=True),
        "command": "benchmarks/hqnn_speed.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    lines = [
        "# HQNN-Parallel training throughput: ketml torch engine vs PennyLane TorchLayer (default.qubit)",
        "",
        f"{len(x)} {source} images per epoch, median of {args.repeats}; "
        f"{torch.get_num_threads()} torch threads; logits agree to {diff:.1e}.",
        "",
    ]
    table = [
        [r["batch_size"], f"{r['ketml_samples_per_s']:.1f}", f"{r['pennylane_samples_per_s']:.1f}"]
        + [f"{r['speedup']:.1f}x"]
        for r in rows
    ]
    lines += markdown_table(["batch", "ketml samples/s", "PennyLane samples/s", "speed-up"], table)
    write_results(args.out, "hqnn_speed", result, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
