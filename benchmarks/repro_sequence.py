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
        for seed in (1, 2)
        for task in ("damped-shm", "bessel-j2", "narma5")
        for m in ("qfwp", "qlstm")
    ],
    ("qrnn-elman-xor", "qrnn", "elman-xor", {}, {}),
    (
        "qrnn-mnist-pixels-01",
        "qrnn",
        "mnist-pixels-01",
        {"epochs": 8, "batch_size": 50, "lr": 0.05},
        {"subset": 3000},
    ),
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
    if "qrnn-mnist-pixels-01" in rows:
        checks["QRNN pixel MNIST 0 vs 1 test accuracy > 95 %"] = (
            rows["qrnn-mnist-pixels-01"]["test_accuracy"] > 0.95
        )

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
        "## QFWP vs QLSTM (test MSE per seed: 0 / 1 / 2; windows of 4, 67/33 split)",
        "",
    ]

    def cell(rs: list[dict], key: str, fmt: str) -> str:
        return " / ".join(format(r[key], fmt) for r in rs) or "-"

    table = []
    for task in ("damped-shm", "bessel-j2", "narma5"):
        a, b = seeds("qfwp", task), seeds("qlstm", task)
        if a or b:
            table.append(
                [task, cell(a, "test_mse", ".2e"), cell(b, "test_mse", ".2e")]
                + [cell(a[:1], "n_parameters", "d"), cell(b[:1], "n_parameters", "d")]
                + [cell(a[:1], "seconds_per_epoch", ".1f"), cell(b[:1], "seconds_per_epoch", ".1f")]
            )
    header = ["task", "QFWP MSE", "QLSTM MSE", "QFWP params", "QLSTM params", "QFWP s/epoch"]
    lines += markdown_table(header + ["QLSTM s/epoch"], table)
    table = []
    for key in ("qrnn-elman-xor", "qrnn-mnist-pixels-01"):
        r = rows.get(key)
        if r:
            table.append(
                [r["dataset"], f"{100 * r['test_accuracy']:.2f} %"]
                + [f"{100 * r['test_argmax_accuracy']:.2f} %", r["epochs"], r["n_train"]]
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
