"""Small-circuit training step, ketml beside its fastest peers in one sitting (issue 22,
targets 1 and 7): RX encoding, ``--layers`` strongly entangling layers, <Z> of every qubit,
MSE + backward + SGD on a batch.

Peers: ketml (torch engine, complex64), PennyLane ``default.qubit`` (backprop, torch
interface, in this process), TorchQuantum and TensorCircuit-NG (JAX, ``jax.jit``; compile time
reported apart) in their own venvs (``benchmarks/peer_envs.py``; a peer that cannot be installed
is reported as unavailable). Every peer's outputs and weight gradient are checked against
ketml in complex128 before anything is timed; then the steps are timed *interleaved*
(``--repeats`` rounds; in each, every peer runs ``--block`` consecutive steps, the first untimed)
so that the load of a shared machine hits all alike, and ratios are reported.
Writes ``perf_small.{json,md,png}``.

    .venv/bin/python benchmarks/perf_small.py                 # the committed results
    .venv/bin/python benchmarks/perf_small.py --quick --out /tmp/bench
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    EntryStore,
    PeerUnavailable,
    add_out,
    add_quick,
    add_threads,
    available_memory,
    deadline,
    log,
    machine_info,
    markdown_table,
    max_abs_diff,
    median,
    new_parser,
    package_version,
    require_agreement,
    run_main,
    skip_reason,
    write_results,
)

PEERS = ("ketml", "pennylane", "torchquantum", "tensorcircuit")
LABELS = {
    "ketml": "ketml",
    "pennylane": "PennyLane default.qubit",
    "torchquantum": "TorchQuantum",
    "tensorcircuit": "TensorCircuit-NG jit",
}
# outputs / weight gradient against ketml complex128; single precision is allowed 1e-5 on the
# outputs (measured: at most 4.6e-7 up to n=12, 2.4e-6 for TorchQuantum at n=16)
OUT_TOL, OUT_TOL_SINGLE, GRAD_TOL = 1e-6, 1e-5, 1e-5
TARGET_VS_PENNYLANE = 10.0
TARGET_QUBITS = (4, 8)
# default.qubit's backprop keeps about this many complex128 batched states (engine_bench)
PENNYLANE_STATE_COPIES = 64


def data(n: int, batch: int, layers: int, check: int, seed: int = 0):
    """Inputs, targets, initial weights and the cross-check's loss coefficients."""
    import torch

    gen = torch.Generator().manual_seed(seed + n)
    x = torch.rand(batch, n, generator=gen) * math.pi
    y = torch.rand(batch, n, generator=gen) * 2 - 1
    w0 = torch.rand(3 * layers * n, generator=gen) * (2 * math.pi)
    coef = torch.randn(min(check, batch), n, generator=gen)
    return x, y, w0, coef


def reference(n: int, layers: int, w0, xc, coef=None, y=None):
    """ketml in complex128: outputs and the gradient of ``sum(out * coef) / b`` (or, given
    ``y``, of the MSE against ``y``: the training step's loss)."""
    import torch

    from benchmarks.engine_bench.peers import ketml_circuit
    from circuits import QuantumLayer

    qc, obs = ketml_circuit(n, layers)
    layer = QuantumLayer(qc, obs, dtype="complex128", initial_weights=w0.double()).double()
    out = layer(xc.double())
    if y is None:
        (out * coef.double()).sum().div(xc.shape[0]).backward()
    else:
        torch.nn.functional.mse_loss(out, y.double()).backward()
    return out.detach(), layer.weights.grad.detach()


class InProcess:
    """A torch module stepped in this process (ketml, PennyLane)."""

    def __init__(self, name: str, n: int, layers: int, w0, x, y):
        import torch

        from benchmarks.engine_bench.peers import PennyLaneLayer, ketml_circuit
        from circuits import QuantumLayer

        self.name = name
        if name == "ketml":
            qc, obs = ketml_circuit(n, layers)
            self.model = QuantumLayer(qc, obs, initial_weights=w0)
            self.version = f"ketml {package_version('ketml') or ''} (torch {torch.__version__})".replace(
                "  ", " "
            )
            self.precision = "complex64"
        else:
            self.model = PennyLaneLayer.build("default.qubit", "backprop", n, layers, w0)
            self.version = f"pennylane {package_version('pennylane')}"
            self.precision = "complex128"
        self.x, self.y = x, y
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01)
        self.compile_s = 0.0

    def check(self, xc, coef):
        """("linear", outputs on ``xc``, gradient of ``sum(out * coef) / b``)."""
        out = self.model(xc)
        (out.double() * coef.double()).sum().div(xc.shape[0]).backward()
        grad = self.model.weights.grad.detach().double().clone()
        self.model.zero_grad()
        return "linear", out.detach().double(), grad

    def step(self, budget_s: float) -> float:
        import torch

        t0 = time.perf_counter()
        with deadline(budget_s):
            self.opt.zero_grad()
            out = self.model(self.x)
            torch.nn.functional.mse_loss(out.to(self.y.dtype), self.y).backward()
            self.opt.step()
        return time.perf_counter() - t0

    def close(self) -> None:
        pass


class Worker:
    """A peer in its own venv (``peer_envs.PeerProcess``)."""

    def __init__(self, name: str, n: int, layers: int, w0, x, y, threads: int, compile_budget_s: float):
        from benchmarks.peer_envs import PeerProcess

        self.name = name
        proc = _WORKERS.get(name)
        if proc is None or proc.proc.poll() is not None:
            proc = _WORKERS[name] = PeerProcess(name, threads=threads)
        self.proc = proc
        self.setup = {
            "cmd": "setup",
            "n": n,
            "layers": layers,
            "lr": 0.01,
            "threads": threads,
            "x": x.tolist(),
            "y": y.tolist(),
            "w0": w0.tolist(),
        }
        self.compile_budget_s = compile_budget_s

    def check(self, xc, coef):
        import torch

        req = dict(self.setup, check_x=xc.tolist(), check_coef=coef.tolist())
        answer = self.proc.request(req, self.compile_budget_s)
        self.version, self.precision, self.compile_s = (
            answer["version"],
            answer["precision"],
            answer["compile_s"],
        )
        out = torch.tensor(answer["check_out"], dtype=torch.float64)
        return answer.get("check", "linear"), out, torch.tensor(answer["check_grad"], dtype=torch.float64)

    def step(self, budget_s: float) -> float:
        return self.proc.request({"cmd": "step"}, budget_s)["seconds"]

    def close(self) -> None:
        pass  # the process serves the next point (one import of the peer per run)


#: worker processes kept across points: a peer's import costs seconds, its setup is per point
_WORKERS: dict = {}


def close_workers() -> None:
    while _WORKERS:
        _WORKERS.popitem()[1].close()


def pennylane_fits(n: int, batch: int, fraction: float = 0.6) -> bool:
    return PENNYLANE_STATE_COPIES * batch * (16 << n) <= fraction * available_memory()


def measure(n: int, batch: int, args, peers: list[str], repeats: int, budget_s: float) -> dict:
    """Cross-check every peer at ``n`` qubits and ``batch``, then time them interleaved."""
    x, y, w0, coef = data(n, batch, args.layers, args.check_batch)
    xc = x[: coef.shape[0]]
    refs = {"linear": reference(n, args.layers, w0, xc, coef)}
    rows: dict[str, dict] = {}
    runners = {}
    for name in peers:
        if name == "pennylane" and not pennylane_fits(n, batch):
            rows[name] = {
                "status": "skipped",
                "reason": "out of memory (predicted): ~64 complex128 batched states",
            }
            continue
        try:
            if name in ("ketml", "pennylane"):
                runner = InProcess(name, n, args.layers, w0, x, y)
            else:
                runner = Worker(name, n, args.layers, w0, x, y, args.threads, args.compile_budget)
            t0 = time.perf_counter()
            kind, out, grad = runner.check(xc, coef)
            setup_s = time.perf_counter() - t0
        except PeerUnavailable as exc:
            rows[name] = {"status": "skipped", "reason": str(exc)}
            log(f"n={n} b={batch} {name}: {exc}")
            continue
        if kind not in refs:  # "mse": the whole batch through the training loss
            refs[kind] = reference(n, args.layers, w0, x, y=y)
        ref_out, ref_grad = refs[kind]
        d_out, d_grad = max_abs_diff(out, ref_out), max_abs_diff(grad, ref_grad)
        tol = OUT_TOL if runner.precision == "complex128" else OUT_TOL_SINGLE
        require_agreement(f"{LABELS[name]} outputs at n={n}", d_out, tol)
        require_agreement(f"{LABELS[name]} weight gradient at n={n}", d_grad, GRAD_TOL)
        rows[name] = {
            "status": "ok",
            "version": runner.version,
            "precision": runner.precision,
            "max_abs_diff_out": d_out,
            "max_abs_diff_grad": d_grad,
            "check": "outputs and MSE gradient, whole batch"
            if kind == "mse"
            else "outputs and linear-loss gradient",
            "compile_s": runner.compile_s,
            "setup_s": setup_s,
            "times_s": [],
        }
        runners[name] = runner
    # rounds; in each, every peer in turn runs ``block`` consecutive steps (as in training),
    # the first of them untimed (it pays for the other peers having run in between)
    block = max(1, args.block)
    for rnd in range(repeats + 1):
        for name, runner in list(runners.items()):
            try:
                seconds = [runner.step(budget_s) for _ in range(block)]
            except Exception as exc:  # noqa: BLE001 - a failing peer is recorded, not fatal
                rows[name].update(status="skipped", reason=skip_reason(exc))
                _WORKERS.pop(name, None)  # a worker that timed out was killed
                del runners[name]
                continue
            if rnd:
                rows[name]["times_s"].extend(seconds[1:] if block > 1 else seconds)
            if max(seconds) > budget_s:
                rows[name].update(
                    status="skipped", reason=f"timeout: step took {max(seconds):.1f} s > {budget_s:g} s"
                )
                runner.close()
                del runners[name]
    for runner in runners.values():
        runner.close()
    for row in rows.values():
        if row["status"] == "ok" and row["times_s"]:
            row["median_s"] = median(row["times_s"])
    ketml = rows.get("ketml", {}).get("median_s")
    for row in rows.values():
        if ketml and row.get("median_s"):
            row["ratio_to_ketml"] = row["median_s"] / ketml
    log(
        f"n={n} b={batch}: "
        + ", ".join(f"{k} {r['median_s'] * 1e3:.1f} ms" for k, r in rows.items() if r.get("median_s"))
    )
    return {"n": n, "batch": batch, "peers": rows}


def _fmt_ms(row: dict | None) -> str:
    if not row:
        return "-"
    if row.get("median_s") is None:
        return "skipped: " + row.get("reason", "")[:60]
    ms = row["median_s"] * 1e3
    text = f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1e3:.2f} s"
    ratio = row.get("ratio_to_ketml")
    if ratio is not None and abs(ratio - 1) > 1e-12:
        text += f" ({ratio:.1f}x)"
    if row.get("compile_s"):
        text += f", compile {row['compile_s']:.0f} s"
    return text


def targets(table: list[dict]) -> list[dict]:
    """Target 1: at n=4 and 8, >= 10x PennyLane default.qubit and faster than TC-NG's jit step."""
    out = []
    for entry in table:
        if entry["n"] not in TARGET_QUBITS:
            continue
        peers = entry["peers"]
        for peer, need in (("pennylane", TARGET_VS_PENNYLANE), ("tensorcircuit", 1.0)):
            ratio = peers.get(peer, {}).get("ratio_to_ketml")
            out.append(
                {
                    "n": entry["n"],
                    "peer": peer,
                    "needed_ratio": need,
                    "ratio": ratio,
                    "met": None if ratio is None else ratio > need or (need > 1 and ratio >= need),
                }
            )
    return out


def plot(result: dict, path: Path) -> None:
    """Step time vs n and vs batch, one line per peer (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, xlabel in (
        (axes[0], "scaling_qubits", "qubits n"),
        (axes[1], "scaling_batch", "batch size"),
    ):
        entries = result.get(key) or []
        for peer in PEERS:
            pts = [
                (e["n"] if key == "scaling_qubits" else e["batch"], e["peers"][peer]["median_s"])
                for e in entries
                if e["peers"].get(peer, {}).get("median_s")
            ]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, [v * 1e3 for v in ys], marker="o", label=LABELS[peer])
        ax.set_yscale("log")
        if key == "scaling_batch":
            ax.set_xscale("log", base=2)
            ax.set_title(f"n = {result['settings']['batch_sweep_qubits']} qubits")
        else:
            ax.set_title(f"batch {result['settings']['scaling_batch']}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("training step (ms, median)")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(
        f"QNN training step: RX encoding + {result['settings']['layers']} strongly entangling layers, "
        f"<Z_i>, {result['settings']['threads']} threads",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sweep(tag, points, make, args, peers, repeats, budget_s) -> list[dict]:
    """Measure ``make(point) -> (n, batch)`` for each point; a peer whose step passed the
    budget, or is predicted to (time x growth of the work), is left out of the later points.
    Each finished point is kept in ``args.runs`` and reused by a rerun with the same settings."""
    store = EntryStore(args.runs)
    same = {
        "layers": args.layers,
        "repeats": repeats,
        "block": args.block,
        "threads": args.threads,
        "peers": peers,
    }
    out = []
    dropped: dict[str, str] = {}
    last: dict[str, tuple[float, float]] = {}  # peer -> (work, seconds)
    compiled: dict[str, tuple[int, float]] = {}  # peer -> (n, compile seconds)
    for p in points:
        n, batch = make(p)
        work = batch * (2.0**n)
        active = []
        for peer in peers:  # a peer dropped at a smaller point stays dropped
            if peer in dropped:
                continue
            if peer in last:
                w, s = last[peer]
                if s * work / w > budget_s:
                    dropped[peer] = f"predicted step over {budget_s:g} s"
                    continue
            # in the sweeps, compile time (growing about as n^2) decides too; the table tries every n
            if tag != "table" and peer in compiled and n > compiled[peer][0]:
                c = compiled[peer][1] * (n / compiled[peer][0]) ** 2
                if c > args.compile_budget:
                    dropped[peer] = f"predicted compile {c:.0f} s over {args.compile_budget:g} s"
                    continue
            active.append(peer)
        entry_id = f"{tag}-n{n}-b{batch}"
        kept = store.has(entry_id) and store.load(entry_id).get("same") == same
        if kept:
            entry = store.load(entry_id)
            log(f"{entry_id}: kept from {store.path(entry_id)}")
        else:
            entry = measure(n, batch, args, active, repeats, budget_s)
            entry["same"] = same
            entry["load_average"] = list(os.getloadavg())
        for peer in peers:
            row = entry["peers"].get(peer)
            if row is None:
                why = "not run in the sitting that measured this point" if kept else "-"
                entry["peers"][peer] = {"status": "skipped", "reason": dropped.get(peer, why)}
            elif row.get("median_s"):
                last[peer] = (work, row["median_s"])
                if row.get("compile_s"):
                    compiled[peer] = (n, row["compile_s"])
            elif row.get("status") == "skipped" and "timeout" in row.get("reason", ""):
                dropped[peer] = f"timed out at n={n}, batch {batch}"
        if not kept:
            store.save(entry_id, entry)
        out.append(entry)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--qubits", type=int, nargs="+", default=[4, 8, 12, 16])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--check-batch", type=int, default=16)
    parser.add_argument(
        "--block",
        type=int,
        default=4,
        help="consecutive steps of one peer per round; the first is untimed (default 4; 1 = strict "
        "one-step interleaving, which times every step just after the other peers ran)",
    )
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds one step may take")
    parser.add_argument("--compile-budget", type=float, default=400.0, help="seconds a peer's setup may take")
    parser.add_argument("--scaling-qubits", type=int, nargs="*", default=list(range(4, 21, 2)))
    parser.add_argument("--scaling-batch", type=int, default=16)
    parser.add_argument("--scaling-repeats", type=int, default=3)
    parser.add_argument("--scaling-budget", type=float, default=20.0)
    parser.add_argument(
        "--sweep-compile-budget",
        type=float,
        default=150.0,
        help="seconds a peer's setup may take in the sweeps",
    )
    parser.add_argument("--batch-sweep", type=int, nargs="*", default=[16, 64, 256, 1024])
    parser.add_argument("--batch-sweep-qubits", type=int, default=8)
    add_threads(parser, help="torch / OpenMP / XLA threads for every peer (default 2)")
    add_quick(parser, help="n=4,8 table, 3 repeats, scaling n=4..12 and batch 16..256")
    add_out(parser)
    parser.add_argument(
        "--runs",
        default=None,
        help="checkpoint folder, one JSON per finished point (default <out>/perf_small)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.qubits, args.repeats = [4, 8], 3
        args.scaling_qubits, args.batch_sweep = [4, 8, 12], [16, 64, 256]
        args.scaling_repeats = 2
    args.threads = args.threads or 2
    # OMP_WAIT_POLICY is left as the user has it (recorded with the machine); see qfwp_speed.py
    import torch

    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()
    log(f"load average {load_start}")
    args.runs = Path(args.runs) if args.runs else Path(args.out) / "perf_small"
    table = sweep(
        "table", args.qubits, lambda n: (n, args.batch), args, list(args.peers), args.repeats, args.budget
    )
    args.compile_budget = args.sweep_compile_budget
    scaling_b = sweep(
        "batch",
        args.batch_sweep,
        lambda b: (args.batch_sweep_qubits, b),
        args,
        list(args.peers),
        args.scaling_repeats,
        args.scaling_budget,
    )
    scaling_n = sweep(
        "qubits",
        args.scaling_qubits,
        lambda n: (n, args.scaling_batch),
        args,
        list(args.peers),
        args.scaling_repeats,
        args.scaling_budget,
    )
    close_workers()
    load_end = os.getloadavg()
    command = "benchmarks/perf_small.py " + " ".join(argv if argv is not None else sys.argv[1:])
    result = {
        "benchmark": "QNN training step (forward + backward + SGD), small circuits, peers interleaved",
        "command": command.strip(),
        "settings": {
            "qubits": args.qubits,
            "batch": args.batch,
            "layers": args.layers,
            "repeats": args.repeats,
            "block": args.block,
            "threads": args.threads,
            "check_batch": args.check_batch,
            "tolerances": {
                "outputs": OUT_TOL,
                "outputs_single_precision": OUT_TOL_SINGLE,
                "gradient": GRAD_TOL,
            },
            "scaling_batch": args.scaling_batch,
            "scaling_repeats": args.scaling_repeats,
            "batch_sweep_qubits": args.batch_sweep_qubits,
        },
        "load_average": {
            "start": list(load_start),
            "end": list(load_end),
            "points": [
                min(e["load_average"][0] for e in table + scaling_n + scaling_b if e.get("load_average")),
                max(e["load_average"][0] for e in table + scaling_n + scaling_b if e.get("load_average")),
            ],
        },
        "table": table,
        "targets": targets(table),
        "scaling_qubits": scaling_n,
        "scaling_batch": scaling_b,
        "machine": machine_info(args.threads, {"torch": package_version("torch")}),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot(result, out / "perf_small.png")
    write_results(out, "perf_small", result, report(result))
    return 0


def report(result: dict) -> list[str]:
    s = result["settings"]
    load = result["load_average"]
    lines = [
        "# Small circuits: QNN training step beside the fastest peers (issue 22)",
        "",
        f"`{result['command']}`",
        "",
        f"RX encoding, {s['layers']} strongly entangling layers, <Z> of every qubit, batch {s['batch']}, "
        f"MSE + backward + SGD; {s['threads']} threads; {s['repeats']} rounds, in each every peer in turn "
        f"runs {s.get('block', 1)} consecutive steps of which the first is untimed (as in training: a step "
        "right after another peer ran pays for the cold caches); median of the timed steps; "
        "(Nx) = peer's time / ketml's. Outputs and weight gradients "
        f"checked against ketml complex128 first (tolerances {s['tolerances']['outputs']:g}, complex64 "
        f"peers {s['tolerances']['outputs_single_precision']:g}; gradients "
        f"{s['tolerances']['gradient']:g}). "
        f"1-minute load average on this 2-core machine when each point finished: {load['points'][0]:.1f} "
        f"to {load['points'][1]:.1f} (shared by several jobs: absolute times are noisy, ratios less so). "
        "Each finished point is kept in `perf_small/` and reused by a rerun with the same settings, "
        "so the points may come from more than one sitting; the peers of one point always share one.",
        "",
    ]
    rows = [[e["n"]] + [_fmt_ms(e["peers"].get(p)) for p in PEERS] for e in result["table"]]
    lines += markdown_table(["n"] + [LABELS[p] for p in PEERS], rows)
    lines += ["", "## Targets (n = 4 and 8)", ""]
    trows = []
    for t in result["targets"]:
        need = f">= {t['needed_ratio']:g}x" if t["needed_ratio"] > 1 else "> 1x (faster)"
        got = "-" if t["ratio"] is None else f"{t['ratio']:.1f}x"
        met = "not run" if t["met"] is None else ("met" if t["met"] else "NOT met")
        trows.append([t["n"], LABELS[t["peer"]], need, got, met])
    lines += markdown_table(["n", "peer", "needed (peer / ketml)", "measured", ""], trows)
    lines += ["", "## Versions and precision", ""]
    seen = {}
    for e in result["table"]:
        for p, r in e["peers"].items():
            if r.get("version"):
                seen[p] = (r["version"], r["precision"])
    lines += markdown_table(["peer", "version", "precision"], [[LABELS[p], *v] for p, v in seen.items()])
    skipped = [
        f"- n={e['n']} {LABELS[p]}: {r['reason']}"
        for e in result["table"]
        for p, r in e["peers"].items()
        if r.get("status") != "ok"
    ]
    if skipped:
        lines += ["", "Not timed:", "", *skipped]
    for key, what in (("scaling_qubits", "n"), ("scaling_batch", "batch")):
        entries = result.get(key) or []
        if not entries:
            continue
        title = (
            f"Step time vs n (batch {s['scaling_batch']})"
            if key == "scaling_qubits"
            else f"Step time vs batch (n = {s['batch_sweep_qubits']})"
        )
        lines += ["", f"## {title}", ""]
        lines += markdown_table(
            [what] + [LABELS[p] for p in PEERS],
            [[e[what]] + [_fmt_ms(e["peers"].get(p)) for p in PEERS] for e in entries],
        )
    lines += ["", "![step time vs n and batch](perf_small.png)"]
    return lines


if __name__ == "__main__":
    raise SystemExit(run_main(main))
