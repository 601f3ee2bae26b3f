"""Why some QFWP seeds stay at the damped-SHM start: the fast weights ``Theta_T`` (accumulated
without bound, as in the paper), the loss and the gradient norm at initialisation for each seed,
and ``Theta_T`` after training for the run folders of ``benchmarks/repro_sequence.py`` found.

Writes ``<out>/qfwp_seed_probe.{json,md}``.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/qfwp_seed_probe.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import add_out, markdown_table, new_parser, run_main, write_results  # noqa: E402


def probe(model, x, y) -> dict:
    """Full-batch loss, gradient norm, prediction spread and ``|Theta_T|`` of ``model``."""
    import torch

    model.zero_grad(set_to_none=True)
    out = model(x)[:, -1]
    loss = ((out - y) ** 2).mean()
    loss.backward()
    theta = model.last_fast_weights.detach()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return {
        "mse": float(loss),
        "grad_norm": float(torch.sqrt(sum((g**2).sum() for g in grads))),
        "prediction_std": float(out.std()),
        "theta_abs_mean": float(theta.abs().mean()),
        "theta_abs_max": float(theta.abs().max()),
    }


def main(argv: list[str] | None = None) -> int:
    import torch

    from qml import registry
    from qml.sequence.tasks import regression_data
    from qml.training.experiment import load_trained

    parser = new_parser(__doc__)
    add_out(parser)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "repro_sequence")
    args = parser.parse_args(argv)
    (x, y), _ = regression_data("damped-shm")
    task, spec = registry.get_task("regression"), registry.get("qfwp")
    rows, record = [], {"target_variance": float(y.var()), "seeds": {}}
    for seed in range(args.seeds):
        torch.manual_seed(seed)  # as ketml train builds the model
        init = probe(task.build(spec, {"input_size": 1, "output_size": 1}, "torch", {}), x, y)
        entry = {"init": init}
        folder = args.runs / ("qfwp-damped-shm" + (f"-s{seed}" if seed else ""))
        if (folder / "model.pt").is_file():
            trained, _ = load_trained(folder)
            entry["trained"] = probe(trained.double(), x, y)
        record["seeds"][seed] = entry
        t = entry.get("trained", {})
        rows.append(
            [seed, f"{init['mse']:.3f}", f"{init['grad_norm']:.2f}", f"{init['theta_abs_mean']:.2f}"]
            + [f"{init['theta_abs_max']:.2f}"]
            + [f"{t[k]:.3g}" if t else "-" for k in ("mse", "theta_abs_mean", "theta_abs_max")]
        )
    header = ["seed", "init train MSE", "init grad norm", "init mean abs(Theta_T)", "init max abs(Theta_T)"]
    header += ["trained train MSE", "trained mean abs(Theta_T)", "trained max abs(Theta_T) (rad)"]
    lines = [
        "# QFWP on damped SHM: fast weights per seed",
        "",
        "Variance of the training targets (the MSE of predicting their mean): "
        f"{record['target_variance']:.3f}.",
        "",
        *markdown_table(header, rows),
        "",
        "Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/qfwp_seed_probe.py` "
        "(trained columns: the run folders of benchmarks/repro_sequence.py present on this machine)",
    ]
    write_results(args.out, "qfwp_seed_probe", record, lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
