"""Validation loss of the LLM circuit generator trained with random mini-batches and with by-length
batches (``TrainConfig(batching="by-length")``) in two orders, in one process, on the same records,
model and seeds:

* ``by-length, swept``: each window of 50 batches in its sorted order, from its longest rows to its
  shortest (what ``by-length`` did before it shuffled the batches; reproduced here only);
* ``by-length``: the same batches, shuffled within their window (what it does now).

A batch's rows have about one length either way (the same padding, the same speed); the orders
differ in what the steps see one after another (a length is often one problem and size).

    .venv/bin/python benchmarks/llm_batching_quality.py --data DIR
    .venv/bin/python benchmarks/llm_batching_quality.py --data DIR --quick --out /tmp
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks.harness import (  # noqa: E402
    add_out,
    add_quick,
    add_threads,
    machine_summary,
    markdown_table,
    median,
    new_parser,
    run_main,
    write_results,
)

MODES = ("random", "by-length, swept", "by-length")


def swept_order(hooks, config, generator: torch.Generator) -> torch.Tensor:
    """The former by-length order: each window of the seeded permutation sorted, longest first."""
    from qml.training.loop import length_windows

    order = torch.randperm(hooks.n_train, generator=generator)
    return torch.cat(length_windows(order, hooks.lengths(), config.batch_size))


def swept_windows(order: torch.Tensor, lengths: torch.Tensor, batch: int) -> float:
    """The fraction of full windows whose batches run from the longest to the shortest."""
    from qml.training.loop import LENGTH_WINDOW

    window, swept = LENGTH_WINDOW * batch, []
    for i in range(0, len(order) - window + 1, window):
        maxima = [int(lengths[order[j : j + batch]].max()) for j in range(i, i + window, batch)]
        swept.append(maxima == sorted(maxima, reverse=True))
    return sum(swept) / max(len(swept), 1)


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--data", type=Path, required=True, help="a records folder (ketml generate dataset)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1.5e-3, help="peak learning rate (cosine)")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument(
        "--block", type=int, default=512, help="context (records that do not fit are left out)"
    )
    parser.add_argument(
        "--vocab", type=int, default=1000, help="vocabulary of the tokenizer trained on the records"
    )
    add_threads(parser)
    add_quick(parser, help="2 seeds, 1 epoch, a 2 x 64 model")
    add_out(parser)
    parser.add_argument("--work", type=Path, default=None, help="run folders (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.seeds, args.width = 1, args.seeds[:2], 64
    if args.threads:
        torch.set_num_threads(args.threads)
    import tempfile

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qml.generators.llm.dataset import read_records
    from qml.training import loop
    from qml.training.experiment import train

    data_options = {"vocab_size": args.vocab, "block": args.block}
    model_options = {"size": "tiny", "n_layer": args.layers, "n_embd": args.width, "n_head": 4}
    runs: dict[str, list[dict]] = {m: [] for m in MODES}
    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        for seed in args.seeds:
            for mode in MODES:
                order_fn = swept_order if "swept" in mode else loop.epoch_order
                seen: list[dict] = []

                def recorded(hooks, config, generator, order_fn=order_fn, seen=seen):
                    """The order the run trains on, and what it does to its batches (each epoch)."""
                    order = order_fn(hooks, config, generator)
                    lengths = hooks.lengths()
                    seen.append(
                        {"swept": swept_windows(order, lengths, config.batch_size), "rows": len(order)}
                    )
                    return order

                t0 = time.perf_counter()
                with mock.patch.object(loop, "epoch_order", recorded):
                    _, metrics = train(
                        "llm-circuits",
                        None,
                        out=work / "runs",
                        data_root=str(args.data),
                        prepared_file=work / f"records-seed{seed}.prep",  # the seed splits val
                        progress=False,
                        seed=seed,
                        model_options=model_options,
                        data_options=data_options,
                        epochs=args.epochs,
                        batch_size=args.batch_size,
                        lr=args.lr,
                        scheduler="cosine",
                        batching="random" if mode == "random" else "by-length",
                        run_name=f"{mode.replace(', ', '-')}-seed{seed}",
                    )
                h = metrics["history"]
                runs[mode].append(
                    {
                        "seed": seed,
                        "val_loss": h["val_loss"],
                        "train_loss": h["train_loss"],
                        "seconds": time.perf_counter() - t0,
                        "swept_windows": [e["swept"] for e in seen],
                        "rows": seen[0]["rows"],
                        "val_rows": metrics["n_records"]["val"],
                    }
                )
                print(f"seed {seed} {mode}: val loss {h['val_loss'][-1]:.4f}", flush=True)
    n_train, n_val = runs[MODES[0]][0]["rows"], runs[MODES[0]][0]["val_rows"]
    swept = {m: [x for r in runs[m] for x in r["swept_windows"]] for m in MODES}
    swept = {m: sum(v) / len(v) for m, v in swept.items()}  # over every epoch of every seed
    paired = {  # the same seed's random run: the same validation split and initialisation
        m: [r["val_loss"][-1] - q["val_loss"][-1] for r, q in zip(runs[m], runs["random"], strict=True)]
        for m in MODES
    }
    final = {m: median([r["val_loss"][-1] for r in runs[m]]) for m in MODES}
    best = {m: median([min(r["val_loss"]) for r in runs[m]]) for m in MODES}
    records = read_records(args.data / "records.jsonl")
    counts = Counter((r["problem"], len(r["graph"]["nodes"])) for r in records)
    problems = ", ".join(f"{p} {n} nodes: {c}" for (p, n), c in sorted(counts.items()))
    command = " ".join([".venv/bin/python benchmarks/llm_batching_quality.py", *(argv or sys.argv[1:])])
    result = {
        "records": {f"{p}/{n}": c for (p, n), c in sorted(counts.items())},
        "command": command,
        "data": str(args.data),
        "rows": {"train": n_train, "val": n_val},
        "settings": {**vars(args), "data": str(args.data), "out": str(args.out), "work": str(args.work)},
        "runs": runs,
        "median_final_val_loss": final,
        "paired_difference_to_random": paired,
        "median_best_val_loss": best,
        "swept_windows": swept,
        "machine": machine_summary("torch", "transformers", threads=True),
    }
    rows = [
        [
            m,
            f"{100 * swept[m]:.0f} %",
            f"{final[m]:.4f}",
            ", ".join(f"{r['val_loss'][-1]:.4f}" for r in runs[m]),
            f"{best[m]:.4f}",
            ", ".join(f"{d:+.4f}" for d in paired[m]),
            f"{median([r['seconds'] for r in runs[m]]):.0f}",
        ]
        for m in MODES
    ]
    lines = [
        "# LLM generator: validation loss with random and by-length batching",
        "",
        f"Command: `{command}`",
        "",
        f"Records: {problems}.",
        "",
        f"{n_train} training and {n_val} validation rows (context {args.block}, vocabulary {args.vocab}),"
        f" GPT-2 {args.layers} x {args.width}, batch {args.batch_size}, lr {args.lr} cosine over"
        f" {args.epochs} epochs,"
        f" seeds {args.seeds}; the loss includes no grammar term.",
        "",
        *markdown_table(
            [
                "batching",
                "windows swept long to short",
                "final val loss (median)",
                "per seed",
                "best val loss (median)",
                "per seed - random (same seed)",
                "s per run (median)",
            ],
            rows,
        ),
        "",
        f"Machine: {result['machine']}.",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for m, colour in zip(MODES, ("tab:blue", "tab:red", "tab:green"), strict=True):
        for k, r in enumerate(runs[m]):
            epochs = range(1, len(r["val_loss"]) + 1)
            ax.plot(epochs, r["val_loss"], color=colour, marker="o", label=m if k == 0 else None)
    ax.set(xlabel="epoch", ylabel="validation loss", title="LLM generator: batching and validation loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "llm_batching_quality.png", dpi=120)
    plt.close(fig)
    write_results(args.out, "llm_batching_quality", result, lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
