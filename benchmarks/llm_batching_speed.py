"""Training steps of the LLM circuit generator with random mini-batches against by-length batching
(``TrainConfig(batching="by-length")``: each window of 50 batches sorted by sequence length), in
one process, on the study's prepared data (records padded to the context; a batch is cut to its
longest row, so a batch of similar lengths computes less).

The same model, optimiser settings and batch positions for both: batches are taken at evenly
spaced places of each mode's epoch order and timed alternately (forward, backward, step). The
epoch's mean batch width is computed exactly from the rows' lengths.

    .venv/bin/python benchmarks/llm_batching_speed.py --prepared ~/.cache/ketml/llm_angle_cpu/llm_angle.prep
    .venv/bin/python benchmarks/llm_batching_speed.py --prepared FILE --quick --out /tmp
"""

from __future__ import annotations

import gzip
import pickle
import sys
import time
from pathlib import Path

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

MODES = ("random", "by-length")


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    parser.add_argument(
        "--prepared", type=Path, required=True, help="a prepared file of the study (--prepared)"
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--width", type=int, default=384)
    parser.add_argument("--batches", type=int, default=12, help="timed batches per mode")
    add_threads(parser)
    add_quick(parser, help="2 batches per mode, a 2 x 128 model")
    add_out(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.batches, args.layers, args.width = 2, 2, 128
    if args.threads:
        torch.set_num_threads(args.threads)
    from qml.generators.llm.sft import SFTHooks, build_llm
    from qml.training.config import TrainConfig
    from qml.training.loop import epoch_order
    from qml.training.optim import make_optimizer, update

    prepared = pickle.load(gzip.open(args.prepared))["prepared"]
    torch.manual_seed(0)
    model = build_llm(prepared.dims, size="tiny", n_embd=args.width, n_head=4, n_layer=args.layers)
    configs = {m: TrainConfig(batch_size=args.batch_size, lr=1e-4, batching=m) for m in MODES}
    hooks = SFTHooks(prepared.train, configs["random"], {})
    lengths = hooks.lengths()
    n, b = hooks.n_train, args.batch_size
    orders = {m: epoch_order(hooks, configs[m], torch.Generator().manual_seed(0)) for m in MODES}
    starts = list(range(0, n, b))
    widths = {
        m: float(sum(int(lengths[orders[m][i : i + b]].max()) for i in starts)) / len(starts) for m in MODES
    }
    picks = [starts[round(k * (len(starts) - 1) / max(args.batches - 1, 1))] for k in range(args.batches)]
    optimizer = make_optimizer(model.parameters(), configs["random"])
    generator = torch.Generator().manual_seed(0)

    def step(mode: str, i: int) -> float:
        idx = orders[mode][i : i + b]
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        update(model, hooks.batch_loss(model, idx, generator), optimizer, None, None)
        return time.perf_counter() - t0

    step("random", picks[0])  # warm-up
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for i in picks:
        for m in MODES:
            times[m].append(step(m, i))
    med = {m: median(times[m]) for m in MODES}
    # batches differ in width (by-length: from a window's longest to its shortest), so the epoch's
    # time is projected from the mean over batches spread evenly over it
    epoch = {m: sum(times[m]) / len(times[m]) * len(starts) for m in MODES}
    result = {
        "prepared": str(args.prepared),
        "rows": n,
        "batch_size": b,
        "model": {"layers": args.layers, "width": args.width, "context": int(prepared.dims["block"])},
        "mean_batch_width": widths,
        "sampled_batch_width": {m: [int(lengths[orders[m][i : i + b]].max()) for i in picks] for m in MODES},
        "seconds_per_batch": times,
        "median_seconds_per_batch": med,
        "projected_epoch_seconds": epoch,
        "speed_up_epoch": epoch["random"] / epoch["by-length"],
        "machine": machine_summary("torch", "transformers", threads=True),
    }
    rows = [
        [m, f"{widths[m]:.0f}", f"{med[m]:.2f}", f"{epoch[m]:.0f}", f"{epoch['random'] / epoch[m]:.2f}x"]
        for m in MODES
    ]
    command = " ".join([".venv/bin/python benchmarks/llm_batching_speed.py", *(argv or sys.argv[1:])])
    lines = [
        "# LLM generator: random against by-length batching (training steps)",
        "",
        f"Command: `{command}`",
        "",
        f"{n} training rows (context {prepared.dims['block']}), batch {b}, GPT-2 {args.layers} x"
        f" {args.width}; {args.batches} batches per mode at the same places of each mode's epoch order,"
        " timed alternately.",
        "",
        *markdown_table(
            [
                "batching",
                "mean batch width (tokens, epoch)",
                "median s/batch",
                "epoch s (projected)",
                "speed-up",
            ],
            rows,
        ),
        "",
        f"Machine: {result['machine']}.",
    ]
    write_results(args.out, "llm_batching_speed", result, lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
