"""QRNN on pixel-by-pixel MNIST 0 vs 1 (Bausch, arXiv 2006.14619): the paper's protocol, resumable.

Model: workspace 8, stages 2, order 2, degree 2, input width 2 (scanlines 0, 1), label in the last
pixel, loss on the label step only. Training: AdamW at each learning rate of ``--lrs`` (Bausch:
0.3, 0.1, 0.03, 0.01), batches of 50 per digit, up to ``--steps`` steps (Bausch: 5,000).
The learning rates train round-robin, ``--chunk`` steps at a time, each in its own checkpointed
folder under ``--runs``; a rate whose validation accuracy trails the best by ``--drop-margin``
after ``--drop-after`` steps, or whose training loss over the last 50 steps is above the best one's
by ``--drop-loss-margin``, gets no more steps (the sweep "shortened where the curves allow").
Rerunning the same command continues every run from its checkpoint. ``--deadline HH:MM`` (UTC)
stops cleanly; ``--summarize`` scores the best-validation weights of every run on the whole test
set and writes ``<out>/repro_qrnn_mnist.{json,md}`` and ``<out>/repro_qrnn_mnist/curves.png``.

    nice -n 10 env OMP_NUM_THREADS=1 KETML_DATA=/work/shared/data \\
        .venv/bin/python benchmarks/repro_qrnn_mnist.py --deadline 22:10
    .venv/bin/python benchmarks/repro_qrnn_mnist.py --summarize
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks.harness import add_out, machine_summary, markdown_table, new_parser, run_main, write_results  # noqa: E402

NAME = "repro_qrnn_mnist"
MODEL = {"input_size": 2, "workspace": 8, "stages": 2, "order": 2, "degree": 2}
#: Bausch's loss of a model that puts p = 1/2 on each of the two labels (and 0 on the two unused words)
CHANCE_LOSS = -math.log(math.exp(0.5) / (2 * math.exp(0.5) + 2)) - (-1 + math.log(3 + math.e))


def load_splits(digits=(0, 1), deskewed: bool = False, root: str | None = None) -> dict:
    """``{"train", "validate", "test"}`` labelled triples (:mod:`data.mnist_pixels`)."""
    import data
    from data.mnist_pixels import qrnn_mnist_pixels

    out = {}
    for name, file, split in (
        ("train", "train", "train"),
        ("validate", "train", "validate"),
        ("test", "test", "all"),
    ):
        ds = data.load_images("mnist", file, root=root)
        out[name] = qrnn_mnist_pixels(ds.images, ds.labels, digits, deskewed=deskewed, split=split)
    # a fixed shuffle of the validation set, so its first ``eval_size`` rows mix both digits
    perm = torch.randperm(len(out["validate"][0]), generator=torch.Generator().manual_seed(0))
    out["validate"] = tuple(t[perm] for t in out["validate"])
    return out


def run_dir(runs: Path, lr: float, seed: int) -> Path:
    return runs / f"lr{lr:g}-seed{seed}"


def build(seed: int):
    from qml.sequence.qrnn import QRNN

    torch.manual_seed(seed)
    return QRNN(**MODEL)


def _history(folder: Path) -> dict | None:
    path = folder / "history.json"
    return json.loads(path.read_text()) if path.is_file() else None


def sweep(args) -> None:
    from qml.sequence.qrnn_steps import StepConfig, train_steps

    deadline = None
    if args.deadline:
        hh, mm = (int(v) for v in args.deadline.split(":"))
        now = dt.datetime.now(dt.timezone.utc)
        end = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        deadline = end.timestamp()
    splits = load_splits(deskewed=args.deskewed, root=args.data_root)
    print(", ".join(f"{name} {len(part[0])}" for name, part in splits.items()))
    active = list(args.lrs)
    while active and (deadline is None or time.time() < deadline):
        _drop(args, active)
        for lr in list(active):
            folder = run_dir(args.runs, lr, args.seed)
            config = StepConfig(lr=lr, steps=args.steps, seed=args.seed, eval_every=args.eval_every)
            model = build(args.seed)
            hist = train_steps(
                model,
                splits["train"],
                splits["validate"],
                config,
                folder,
                stop_after=args.chunk,
                deadline=deadline,
                log=lambda line, lr=lr: print(f"lr {lr:g}: {line}", flush=True),
            )
            if hist["step"] and hist["step"][-1] >= args.steps:
                active.remove(lr)


def _drop(args, active: list[float]) -> None:
    """Remove from ``active`` the rates that trail the best one clearly (validation accuracy or
    training loss), once every active rate has had ``--drop-after`` steps."""
    hists = {lr: _history(run_dir(args.runs, lr, args.seed)) for lr in active}
    ready = {lr: h for lr, h in hists.items() if h and h["step"] and h["step"][-1] >= args.drop_after}
    if len(ready) < len(active) or len(active) < 2:
        return
    score = {lr: max(h["val_argmax_accuracy"][-3:]) for lr, h in ready.items()}
    loss = {lr: sum(h["loss"][-50:]) / len(h["loss"][-50:]) for lr, h in ready.items()}
    top, low = max(score.values()), min(loss.values())
    for lr in ready:
        if score[lr] < top - args.drop_margin or loss[lr] > low + args.drop_loss_margin:
            print(
                f"lr {lr:g}: dropped at step {ready[lr]['step'][-1]} (validation {score[lr]:.3f} vs best "
                f"{top:.3f}; training loss of the last 50 steps {loss[lr]:.3f} vs best {low:.3f}; "
                f"chance {CHANCE_LOSS:.3f})",
                flush=True,
            )
            active.remove(lr)


def _plot(rows: list[dict], path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 7))
    axes = fig.subplots(2, 2)
    for r in rows:
        h, label = r["history"], f"lr {r['lr']:g}"
        window = 10
        loss = torch.tensor(h["loss"])
        smooth = loss.unfold(0, window, 1).mean(1) if len(loss) >= window else loss
        axes[0, 0].plot(range(len(loss) - len(smooth) + 1, len(loss) + 1), smooth.tolist(), label=label)
        axes[0, 1].plot(h["eval_step"], h["val_argmax_accuracy"], "-o", markersize=2, label=label)
        axes[1, 0].semilogy(h["step"], h["grad_norm"], lw=0.6, label=label)
        axes[1, 1].semilogy(h["step"], h["min_postselection_prob"], lw=0.6, label=label)
    titles = [
        "training loss (moving average of 10 steps)",
        "validation accuracy (argmax, 200 sequences)",
        "gradient norm before clipping (clip 0.5)",
        "min postselection probability per batch",
    ]
    for ax, title in zip(axes.flat, titles, strict=True):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    axes[0, 1].axhline(0.95, color="grey", ls=":", lw=0.8)
    fig.suptitle("QRNN, pixel MNIST 0 vs 1 (workspace 8, stages 2, order 2, degree 2; batch 50 per digit)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def summarize(args) -> dict:
    from qml.sequence.qrnn_steps import evaluate
    from qml.training.runs import load_torch

    splits = load_splits(deskewed=args.deskewed, root=args.data_root)
    rows = []
    for lr in args.lrs:
        folder = run_dir(args.runs, lr, args.seed)
        h = _history(folder)
        if not h or not h["step"]:
            continue
        model = build(args.seed)
        model.load_state_dict(load_torch(folder / "best.pt"))
        test_set = tuple(t[: args.test_limit] for t in splits["test"])
        test = evaluate(model, test_set, seed=1)
        model.load_state_dict(load_torch(folder / "checkpoint.pt", what="checkpoint")["model"])
        final = evaluate(model, test_set, seed=1)
        best = max(range(len(h["eval_step"])), key=lambda i: h["val_argmax_accuracy"][i])
        last = h["loss"][-20:]
        rows.append(
            {
                "lr": lr,
                "steps": h["step"][-1],
                "best_val_step": h["eval_step"][best],
                "best_val_argmax_accuracy": h["val_argmax_accuracy"][best],
                "test_accuracy": test["accuracy"],
                "test_argmax_accuracy": test["argmax_accuracy"],
                "test_loss": test["loss"],
                "final_test_accuracy": final["accuracy"],
                "final_test_argmax_accuracy": final["argmax_accuracy"],
                "last20_train_loss": sum(last) / len(last),
                "median_grad_norm_last50": float(torch.tensor(h["grad_norm"][-50:]).median()),
                "min_postselection_prob": min(h["min_postselection_prob"]),
                "seconds_per_step": float(torch.tensor(h["seconds"]).median()),
                "run_dir": str(folder),
                "history": h,
            }
        )
    _plot(rows, args.out / NAME / "curves.png")
    best = max(rows, key=lambda r: r["best_val_argmax_accuracy"]) if rows else None
    command = (
        "nice -n 10 env OMP_NUM_THREADS=1 KETML_DATA=/work/shared/data .venv/bin/python "
        f"benchmarks/repro_qrnn_mnist.py --lrs {' '.join(f'{v:g}' for v in args.lrs)} --steps {args.steps} "
        f"--chunk {args.chunk} --seed {args.seed} --deadline HH:MM; then the same with --summarize"
    )
    summary = {
        "rows": rows,
        "selected_by_validation": None if best is None else best["lr"],
        "test_accuracy": None if best is None else best["test_accuracy"],
        "target": 0.95,
        "reached": bool(best and best["test_accuracy"] > 0.95),
        "model": MODEL,
        "machine": machine_summary("torch"),
        "command": command,
        "note": args.note,
    }
    table = [
        [f"{r['lr']:g}", r["steps"], r["best_val_step"], f"{100 * r['best_val_argmax_accuracy']:.1f} %"]
        + [f"{100 * r['test_accuracy']:.2f} %", f"{100 * r['test_argmax_accuracy']:.2f} %"]
        + [f"{100 * r['final_test_accuracy']:.2f} %"]
        + [
            f"{r['last20_train_loss']:.4f}",
            f"{r['median_grad_norm_last50']:.3g}",
            f"{r['seconds_per_step']:.1f}",
        ]
        for r in rows
    ]
    header = [
        "lr",
        "steps",
        "best val. step",
        "val. acc. (argmax)",
        "test acc. (sampled)",
        "test acc. (argmax)",
    ]
    header += ["test acc., last weights (sampled)", "train loss (last 20)"]
    header += ["grad norm (median, last 50)", "s / step"]
    lines = [
        "# QRNN, pixel MNIST 0 vs 1 (Bausch, arXiv 2006.14619)",
        "",
        "Test accuracy of each run's best-validation weights on all "
        f"{len(splits['test'][0][: args.test_limit])} test images; target > 95 %.",
        "",
        *markdown_table(header, table),
        "",
        "![curves](repro_qrnn_mnist/curves.png)",
        "",
        *([args.note, ""] if args.note else []),
        f"Command: `{command}`",
    ]
    write_results(args.out, NAME, summary, lines)
    print("\n".join(lines))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    add_out(parser)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / NAME, help="checkpoint folders")
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.3, 0.1, 0.03, 0.01])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--chunk", type=int, default=25, help="steps per rate per round")
    parser.add_argument("--eval-every", type=int, default=25)
    parser.add_argument("--drop-after", type=int, default=100)
    parser.add_argument("--drop-margin", type=float, default=0.1, help="validation accuracy behind the best")
    parser.add_argument("--drop-loss-margin", type=float, default=0.03, help="training loss above the best")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--deskewed", action="store_true")
    parser.add_argument("--data-root", default=None, help="MNIST folder (default: the data catalogue's)")
    parser.add_argument("--deadline", default=None, help="HH:MM UTC: stop (checkpointed) then")
    parser.add_argument("--summarize", action="store_true")
    parser.add_argument("--note", default="", help="a paragraph for the summary (how the sweep went)")
    parser.add_argument("--test-limit", type=int, default=None, help="score only the first N test images")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.summarize:
        summarize(args)
    else:
        sweep(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
