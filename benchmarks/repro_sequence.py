"""Reproduction of the sequence models' papers (issue: QRNN, QLSTM, QFWP).

* QRNN (Bausch 2020): the Elman XOR task (error rate on the predictable bits below 5 %) and
  pixel-by-pixel MNIST 0 vs 1 with 12 qubits (2 in/out + 8 workspace + 2 ancillas; > 95 %).
* QFWP vs QLSTM (Chen 2024): test MSE on damped SHM, Bessel J2 and NARMA-5 with the paper's
  training settings (RMSprop 0.01, batch 10, 100 epochs, windows of 4, 67/33 split in time).
* RL: QFWP and QLSTM actor-critics on CartPole-v1 (solved: 195 over 100 episodes) and
  MiniGrid-Empty-5x5 (0.9).

Every entry goes through ``qml.training.experiment.train`` (what ``ketml
train`` runs), writes ``<out>/repro_sequence/<id>.json`` and is skipped once done; ``--only``
picks entries, ``--shard i/n`` splits them over processes, ``--summarize`` writes
``<out>/repro_sequence.{json,md}``.

    KETML_DATA=../shared/data .venv/bin/python benchmarks/repro_sequence.py --only qfwp-damped-shm
    .venv/bin/python benchmarks/repro_sequence.py --summarize
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    EntryStore,
    add_entry_options,
    add_out,
    machine_summary,
    markdown_table,
    new_parser,
    run_main,
    select_entries,
    write_results,
)

#: (id, model, dataset, training overrides, train keyword arguments)
ENTRIES = [
    ("qfwp-damped-shm", "qfwp", "damped-shm", {}, {}),
    ("qlstm-damped-shm", "qlstm", "damped-shm", {}, {}),
    ("qfwp-bessel-j2", "qfwp", "bessel-j2", {}, {}),
    ("qlstm-bessel-j2", "qlstm", "bessel-j2", {}, {}),
    ("qfwp-narma5", "qfwp", "narma5", {}, {}),
    ("qlstm-narma5", "qlstm", "narma5", {}, {}),
    *[
        (f"{m}-{task}-s{seed}", m, task, {}, {"seed": seed})
        for seed in (1, 2, 3, 4)
        for task in ("damped-shm", "bessel-j2", "narma5")
        for m in ("qfwp", "qlstm")
    ],
    ("qrnn-elman-xor", "qrnn", "elman-xor", {}, {}),
    # QRNN pixel MNIST 0 vs 1: benchmarks/repro_qrnn_mnist.py (Bausch's step-based protocol, resumable)
    ("qfwp-minigrid-empty-5x5", "qfwp", "minigrid-empty-5x5", {"epochs": 600}, {}),
    ("qlstm-minigrid-empty-5x5", "qlstm", "minigrid-empty-5x5", {"epochs": 600}, {}),
    ("qfwp-cartpole", "qfwp", "cartpole", {"epochs": 1500}, {}),
    ("qlstm-cartpole", "qlstm", "cartpole", {"epochs": 1500}, {}),
    ("qfwp-cartpole-4000ep", "qfwp", "cartpole", {"epochs": 4000}, {}),
    ("qlstm-cartpole-lr0.05", "qlstm", "cartpole", {"epochs": 1500, "lr": 0.05}, {}),
]
KEEP = (
    "test_mse",
    "train_mse",
    "test_accuracy",
    "test_argmax_accuracy",
    "test_error_rate",
    "mean_return",
    "solved",
    "episodes_to_solve",
    "episodes",
    "epochs",
    "n_parameters",
    "n_quantum_parameters",
    "seconds_per_epoch",
    "train_seconds",
    "n_train",
    "n_test",
)


def run_entry(entry_id, model, dataset, overrides, kwargs, out: Path, runs: Path, progress: bool) -> dict:
    from qml.training.experiment import train

    store = EntryStore(out / "repro_sequence")
    if store.has(entry_id):
        print(f"{entry_id}: done earlier")
        return store.load(entry_id)
    folder = runs / entry_id
    t0 = time.time()
    if (folder / "checkpoint.pt").is_file() and (folder / "run.json").is_file():
        run_dir, metrics = train(model, dataset, resume=folder, progress=progress)
    else:
        if folder.exists():
            shutil.rmtree(folder)
        run_dir, metrics = train(model, dataset, out=runs / "tmp", progress=progress, **kwargs, **overrides)
        folder.parent.mkdir(parents=True, exist_ok=True)
        run_dir.rename(folder)
    result = {
        "id": entry_id,
        "model": model,
        "dataset": dataset,
        "overrides": overrides,
        **kwargs,
        **{k: metrics[k] for k in KEEP if k in metrics},
        "wall_seconds": time.time() - t0,
        "config": metrics.get("config"),
        "run_dir": str(folder),
    }
    if "history" in metrics:
        result["history"] = metrics["history"]
    if "returns" in metrics:  # RL: the best moving average over the training episodes
        result["best_window_average"] = best_window_average(metrics["returns"])
    store.save(entry_id, result)
    print(
        f"{entry_id}: "
        + ", ".join(f"{k}={result[k]}" for k in ("test_mse", "test_accuracy", "mean_return") if k in result)
    )
    return result


def best_window_average(returns: list[float], window: int = 100) -> float:
    """Highest average of ``window`` consecutive training returns (all of them if fewer)."""
    r = np.asarray(returns, dtype=float)
    if len(r) <= window:
        return float(r.mean())
    return float(np.convolve(r, np.ones(window) / window, mode="valid").max())


def plot_seed_curves(runs: dict[str, list[dict]], path: Path, title: str) -> None:
    """Train loss and test MSE per epoch of every seed (one panel per model): whether a bad seed
    diverged (rose after learning) or never left its start."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8))
    axes = fig.subplots(1, len(runs), sharey=True)
    for ax, (model, rs) in zip(np.atleast_1d(axes), runs.items(), strict=True):
        for r in rs:
            h, seed = r.get("history") or {}, r.get("seed", 0)
            if "test_mse" in h:
                line = ax.plot(h["test_mse"], lw=1.3, label=f"seed {seed} test ({r['test_mse']:.1e})")
                ax.plot(h["train_loss"], lw=0.8, ls="--", color=line[0].get_color(), alpha=0.7)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"{model}: test MSE (solid), train loss (dashed)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def summarize(out: Path) -> dict:
    """Merge the finished entries into ``<out>/repro_sequence.{json,md}``; return the summary."""
    store = EntryStore(out / "repro_sequence")
    rows = store.load_many(e[0] for e in ENTRIES)
    # earlier or longer runs kept for the record (e.g. RL at the old discount), listed but not checked
    extra = {
        k: r
        for k, r in store.load_all().items()
        if k not in rows and not any(k.startswith(f"{e}-s") for e in rows)
    }
    checks = {}
    if "qrnn-elman-xor" in rows:
        checks["QRNN Elman XOR error rate on the predictable bits < 5 %"] = (
            rows["qrnn-elman-xor"]["test_error_rate"] < 0.05
        )
    mnist_qrnn = out / "repro_qrnn_mnist.json"  # written by benchmarks/repro_qrnn_mnist.py
    mnist_qrnn = json.loads(mnist_qrnn.read_text()) if mnist_qrnn.is_file() else None
    if mnist_qrnn and mnist_qrnn.get("test_accuracy") is not None:
        checks["QRNN pixel MNIST 0 vs 1 test accuracy > 95 % (repro_qrnn_mnist)"] = mnist_qrnn["reached"]

    def seeds(model: str, task: str) -> list[dict]:
        return [r for k, r in rows.items() if k == f"{model}-{task}" or k.startswith(f"{model}-{task}-s")]

    def median_mse(model: str, task: str) -> float | None:
        values = sorted(r["test_mse"] for r in seeds(model, task))
        return values[len(values) // 2] if values else None

    for task in ("damped-shm", "bessel-j2", "narma5"):
        a, b = median_mse("qfwp", task), median_mse("qlstm", task)
        if a is not None and b is not None:
            n = min(len(seeds("qfwp", task)), len(seeds("qlstm", task)))
            checks[f"QFWP median test MSE <= QLSTM's on {task} ({n} seeds)"] = a <= b
    for task, solved in (("cartpole", 195.0), ("minigrid-empty-5x5", 0.9)):
        for model in ("qfwp", "qlstm"):
            r = rows.get(f"{model}-{task}")
            if r:
                checks[f"{model} solves {task} (mean return >= {solved})"] = r["mean_return"] >= solved
    summary = {
        "entries": list(rows.values()),
        "other_runs": list(extra.values()),
        "checks": checks,
        "machine": machine_summary("torch"),
        "command": "benchmarks/repro_sequence.py (see its docstring)",
    }
    lines = [
        "# Sequence models: reproduction",
        "",
        "## QFWP vs QLSTM (test MSE: median [min, max] over the seeds, then seed 0 / 1 / 2 / ...; "
        "windows of 4, 67/33 split)",
        "",
    ]

    def cell(rs: list[dict], key: str, fmt: str) -> str:
        return " / ".join(format(r[key], fmt) for r in rs) or "-"

    def spread(rs: list[dict]) -> str:
        v = sorted(r["test_mse"] for r in rs)
        return f"{v[len(v) // 2]:.2e} [{v[0]:.1e}, {v[-1]:.1e}] ({len(v)})" if v else "-"

    table = []
    for task in ("damped-shm", "bessel-j2", "narma5"):
        a, b = seeds("qfwp", task), seeds("qlstm", task)
        if a or b:
            table.append(
                [task, spread(a), spread(b), cell(a, "test_mse", ".2e"), cell(b, "test_mse", ".2e")]
                + [cell(a[:1], "n_parameters", "d"), cell(b[:1], "n_parameters", "d")]
                + [cell(a[:1], "seconds_per_epoch", ".1f"), cell(b[:1], "seconds_per_epoch", ".1f")]
            )
    if seeds("qfwp", "damped-shm"):
        curves = {m.upper(): seeds(m, "damped-shm") for m in ("qfwp", "qlstm")}
        plot_seed_curves(curves, out / "repro_sequence_damped_shm_seeds.png", "damped SHM, every seed")
    header = ["task", "QFWP median [min, max] (seeds)", "QLSTM median [min, max] (seeds)"]
    header += ["QFWP MSE per seed", "QLSTM MSE per seed", "QFWP params", "QLSTM params", "QFWP s/epoch"]
    lines += markdown_table(header + ["QLSTM s/epoch"], table)
    if seeds("qfwp", "damped-shm"):
        lines += ["", "![damped SHM, every seed](repro_sequence_damped_shm_seeds.png)", ""]
        for model in ("qfwp", "qlstm"):
            lowest = ", ".join(
                f"{r.get('seed', 0)}: {min((r.get('history') or {}).get('train_loss', [float('nan')])):.1e}"
                for r in seeds(model, "damped-shm")
            )
            lines.append(f"- {model.upper()} damped SHM, lowest training loss per seed: {lowest}")
        lines.append("- the training targets' variance (the loss of predicting their mean) is 0.22")
        lines.append("- QFWP fast weights and gradients per seed: qfwp_seed_probe.md")
    table = []
    for key in ("qrnn-elman-xor", "qrnn-mnist-pixels-01"):
        r = rows.get(key)
        if r:
            table.append(
                [r["dataset"], f"{100 * r['test_accuracy']:.2f} %"]
                + [f"{100 * r['test_argmax_accuracy']:.2f} %", r["epochs"], r["n_train"]]
            )
    if mnist_qrnn and mnist_qrnn.get("test_accuracy") is not None:
        r = next(r for r in mnist_qrnn["rows"] if r["lr"] == mnist_qrnn["selected_by_validation"])
        table.append(
            [f"mnist-pixels-01 (lr {r['lr']:g}, repro_qrnn_mnist)", f"{100 * r['test_accuracy']:.2f} %"]
            + [f"{100 * r['test_argmax_accuracy']:.2f} %", f"{r['steps']} steps", "batch 50 per digit"]
        )
    header = ["task", "test accuracy (sampled)", "argmax accuracy", "epochs", "training set"]
    lines += ["", "## QRNN", "", *markdown_table(header, table)]
    table = []
    for key, r in {**rows, **extra}.items():
        if "mean_return" in r:
            gamma = (r.get("config") or {}).get("gamma")
            if gamma is None:  # None in the config: the environment's own discount
                from data.environments import ENVIRONMENTS

                gamma = ENVIRONMENTS[r["dataset"]].gamma
            best = r.get("best_window_average")
            table.append(
                [key, r["dataset"], r["model"], gamma, f"{r['mean_return']:.3f}"]
                + ["-" if best is None else f"{best:.3f}", r["solved"], r["episodes"]]
                + [r["episodes_to_solve"]]
            )
    header = ["run", "task", "model", "discount", "mean return", "best training avg. (100 ep.)", "solved"]
    header += ["episodes trained", "episodes to solve"]
    lines += ["", "## RL (mean return of 100 evaluation episodes)", "", *markdown_table(header, table)]
    lines += ["", "The long, resumable RL runs continue in repro_rl.md (benchmarks/repro_rl.py)."]
    partial = [k for k, r in extra.items() if "mean_return" not in r]
    if partial:
        lines += ["", "Other runs kept for the record: " + ", ".join(partial)]
    lines += ["", "Checks: " + "; ".join(f"{k}: {v}" for k, v in checks.items())]
    write_results(out, "repro_sequence", summary, lines)
    print("\n".join(lines))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    add_out(parser)
    add_entry_options(parser, runs=ROOT / "runs" / "repro_sequence")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.summarize:
        summarize(args.out)
        return 0
    chosen = select_entries(parser, [e[0] for e in ENTRIES], only=args.only, shard=args.shard)
    for entry_id, model, dataset, overrides, kwargs in ENTRIES:
        if entry_id not in chosen:
            continue
        run_entry(entry_id, model, dataset, overrides, kwargs, args.out, args.runs, not args.no_progress)
    summarize(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
