"""Quantum agents of the QFWP paper (Chen, arXiv 2402.17760): QFWP and QLSTM actor-critics, with
the classical LSTM core as reference, on CartPole-v1 (solved: evaluation mean >= 195 over 100
episodes) and MiniGrid-Empty-5x5 (0.9), run long and resumable.

Every entry is a run of ``qml.training.experiment.train`` (what ``ketml train`` runs) in
``<runs>/<id>`` (default ``benchmarks/results/repro_rl/<id>``, small enough to commit: run.json,
checkpoint.pt every 10 episodes, returns.png). Running an entry again continues it from its
checkpoint (``ketml train --resume <runs>/<id> --epochs N`` does the same); ``--minutes`` stops
each entry after that long (Ctrl-C too) with its checkpoint kept, so sessions add up. A finished
entry (solved, or all its episodes) is evaluated on 100 episodes; an unfinished one is reported
from its checkpoint's training returns. ``--summarize`` writes ``<out>/repro_rl.{json,md}`` and
the learning curves ``<out>/repro_rl_<task>.png``.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/repro_rl.py --only qfwp-cartpole --minutes 30
    .venv/bin/python benchmarks/repro_rl.py --summarize
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    RESULTS,
    add_entry_options,
    add_out,
    machine_summary,
    markdown_table,
    new_parser,
    run_main,
    select_entries,
    write_results,
)

#: (id, model, environment, episodes, model options)
ENTRIES = [
    ("lstm-minigrid-empty-5x5", "lstm", "minigrid-empty-5x5", 1500, {}),  # hidden 4, as QLSTM's
    # hidden 8: the reference the test suite checks (tests/rl: solves Empty-5x5 within 800 episodes)
    ("lstm8-minigrid-empty-5x5", "lstm", "minigrid-empty-5x5", 1500, {"hidden_size": 8}),
    ("qfwp-minigrid-empty-5x5", "qfwp", "minigrid-empty-5x5", 3000, {}),
    ("qlstm-minigrid-empty-5x5", "qlstm", "minigrid-empty-5x5", 3000, {}),
    ("qfwp-cartpole", "qfwp", "cartpole", 8000, {}),
    # the same with running observation normalisation: bounds the quadratic fast-weight update
    # L(h) Q(h) that grew to 56 rad per step on raw observations (rl_fast_weights.md)
    ("qfwp-cartpole-normobs", "qfwp", "cartpole", 8000, {"normalize_obs": True}),
]
TASKS = {"cartpole": 195.0, "minigrid-empty-5x5": 0.9}


def run_entry(
    entry_id: str, model: str, env: str, episodes: int, options: dict, runs: Path, minutes: float | None
):
    """Train (or continue) one entry for at most ``minutes``; returns what it reached."""
    from circuits.files import read_json
    from qml.training.experiment import train
    from qml.training.optim import TrainingInterrupted

    folder = runs / entry_id
    metrics_path = folder / "metrics.json"
    if metrics_path.is_file():
        done = read_json(metrics_path, dict)
        if done.get("episodes_to_solve") is not None or done["episodes"] >= episodes:
            print(f"{entry_id}: finished earlier ({done['episodes']} episodes)")
            return
    if minutes is not None:  # the budget arrives as a Ctrl-C: the trainer keeps its checkpoint
        signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        signal.alarm(max(1, int(minutes * 60)))
    t0 = time.time()
    try:
        if (folder / "checkpoint.pt").is_file() and (folder / "run.json").is_file():
            train(None, resume=folder, epochs=episodes, progress=False)
        else:
            folder.parent.mkdir(parents=True, exist_ok=True)
            train(
                model,
                env,
                out=folder.parent,
                run_name=entry_id,
                epochs=episodes,
                model_options=options or None,
                progress=False,
            )
        print(f"{entry_id}: finished in {time.time() - t0:.0f} s")
    except TrainingInterrupted:
        print(f"{entry_id}: stopped after {time.time() - t0:.0f} s (its checkpoint is kept)")
    except KeyboardInterrupt:  # the budget ran out before the first episode
        print(f"{entry_id}: stopped after {time.time() - t0:.0f} s, before training")
    finally:
        signal.alarm(0)
        made = sorted(folder.parent.glob(f"{entry_id}-2*"))  # a new run's folder: <id>-<time stamp>
        if made and not folder.exists():
            made[-1].rename(folder)


def window_average(returns: list[float], window: int = 100) -> np.ndarray:
    """Average of the last ``window`` returns at every episode (fewer at the start)."""
    r = np.asarray(returns, dtype=float)
    c = np.concatenate([[0.0], np.cumsum(r)])
    i = np.arange(1, len(r) + 1)
    return (c[i] - c[np.maximum(0, i - window)]) / np.minimum(i, window)


def entry_state(entry_id: str, runs: Path) -> dict | None:
    """What an entry reached: from metrics.json when finished, else from its checkpoint."""
    from circuits.files import read_json
    from qml.training.runs import load_torch

    folder = runs / entry_id
    if not (folder / "checkpoint.pt").is_file():
        return None
    ckpt = load_torch(folder / "checkpoint.pt", "cpu", "checkpoint")
    returns = [float(r) for r in ckpt["history"]["returns"]]
    state = {"returns": returns, "episodes": len(returns), "train_seconds": ckpt.get("train_seconds")}
    state["episodes_to_solve"] = ckpt.get("solved_at")
    if (folder / "metrics.json").is_file():
        metrics = read_json(folder / "metrics.json", dict)
        if metrics["episodes"] == len(returns):
            state.update(
                finished=True, mean_return=metrics["mean_return"], eval_episodes=metrics["eval_episodes"]
            )
            state["n_parameters"] = metrics.get("n_parameters")
    return state


def plot_curves(task: str, curves: dict[str, list[float]], solved: float, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.subplots()
    for name, returns in curves.items():
        ax.plot(np.arange(1, len(returns) + 1), window_average(returns), lw=1.6, label=name)
    ax.axhline(solved, color="gray", ls=":", label=f"solved ({solved})")
    ax.set_xlabel("training episode")
    ax.set_ylabel("average return of the last 100 episodes")
    ax.set_title(f"A2C on {task}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def summarize(out: Path, runs: Path, commands: list[str]) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    rows, entries, curves = [], [], {t: {} for t in TASKS}
    for entry_id, model, env, episodes, options in ENTRIES:
        state = entry_state(entry_id, runs)
        if state is None:
            continue
        returns = state.pop("returns")
        avg = window_average(returns)
        best = float(avg[99:].max()) if len(avg) >= 100 else None
        last = float(avg[-1]) if returns else None
        curves[env][entry_id] = returns
        record = {"id": entry_id, "model": model, "environment": env, "planned_episodes": episodes}
        record |= {
            "model_options": options,
            **state,
            "best_window_average": best,
            "last_window_average": last,
        }
        record["run_dir"] = str(runs / entry_id)
        entries.append(record)
        evaluated = state.get("mean_return")
        rows.append(
            [entry_id, env, f"{state['episodes']} / {episodes}"]
            + ["-" if best is None else f"{best:.3f}", "-" if last is None else f"{last:.3f}"]
            + [state["episodes_to_solve"] or "-"]
            + ["not yet (unfinished run)" if evaluated is None else f"{evaluated:.3f}"]
            + [f"{(state['train_seconds'] or 0) / 60:.0f}"]
        )
    for task, solved in TASKS.items():
        if curves[task]:
            plot_curves(task, curves[task], solved, out / f"repro_rl_{task}.png")
    header = ["run", "environment", "episodes trained / planned", "best training avg. (100 ep.)"]
    header += ["last training avg. (100 ep.)", "episode the training avg. reached solved"]
    header += ["evaluation mean (100 ep.)", "training minutes"]
    shown = runs.relative_to(ROOT) if runs.is_relative_to(ROOT) else runs
    lines = [
        "# Quantum agents (QFWP paper, arXiv 2402.17760): A2C on CartPole-v1 and MiniGrid-Empty-5x5",
        "",
        "Solved: evaluation mean >= 195 (CartPole) / 0.9 (MiniGrid) over 100 episodes. Runs are resumable:",
        f"each keeps its checkpoint in `{shown}/<id>/checkpoint.pt`.",
        "",
        *markdown_table(header, rows),
        "",
        *[f"![{t}](repro_rl_{t}.png)" for t in TASKS if curves[t]],
        "",
        *FINDINGS,
        "",
        "Commands:",
        "",
        *[f"    {c}" for c in commands],
    ]
    summary = {
        "entries": entries,
        "commands": commands,
        "command": "benchmarks/repro_rl.py (see its docstring)",
    }
    summary["machine"] = machine_summary("torch")
    write_results(out, "repro_rl", summary, lines)
    print("\n".join(lines))
    return summary


#: what the diagnosis (benchmarks/rl_diagnosis.py -> rl_diagnosis.md) measured, quoted in the summary
FINDINGS = [
    "## Why QLSTM stays at the random policy on CartPole (lr 0.01): rl_diagnosis.md",
    "",
    "- The QLSTM policy hardly depends on the observation: the spread of its logits over 64 CartPole states",
    "  is 8.3e-05 in the first 25 episodes and 1.1e-02 after 200 (classical LSTM core: 1.4e-02, then 0.19;",
    "  QFWP: 0.11 at the start). Its entropy stays at ln 2 = 0.692 for all 200 episodes.",
    "- So the policy gradient lands in the read-out head (norm 0.14 of 0.142 in episodes 1-25), not in",
    "  the circuits (gates 2.1e-04 over 192 weights, 6-VQC read-out 0.029): only a state-independent bias",
    "  is learnt.",
    "- Cause: the observation enters as rotation angles atan(v) (CartPole values ~0.05 at the start of an",
    "  episode), the 8-qubit gate circuit's <Z> outputs vary little with their inputs (std 0.065 over",
    "  unit-variance inputs at 8 qubits, 0.28 at 4), and the 6-VQC read-out then encodes o*tanh(c), values",
    "  of ~0.01, as angles again: the first-step output varies by 3.4e-04 over unit-variance inputs",
    "  (rl_qlstm_probe.md: benchmarks/rl_diagnosis.py --probe).",
    "- Not the clip (scale 1.0 throughout: total gradient norm < 1) and not the entropy bonus (its gradient",
    "  1e-4 to 1e-3). The value/policy balance tips as the value loss starts to fit: its gradient grows",
    "  from 0.0035 to 0.76, ten times the policy's after episode 100 (LSTM: about 1:1), and moves the",
    "  shared core.",
    "- Tried: 4 VQCs (no read-out circuit), 4 qubits and running observation normalisation together",
    "  (normalize_obs): the logit spread at the start rises 65x (5.5e-03), but the return is still ~21 after",
    "  200 episodes, entropy 0.69, the value gradient again 3-4x the policy's. Not fixed in this session.",
    "",
    "## Why QFWP's CartPole return collapsed after episode ~4300: rl_fast_weights.md",
    "",
    "- The training average rose to 76.5 (near episode 3500), fell to the random policy's ~22 by episode",
    "  4500 and stayed there to episode 8000 (evaluation 21.8).",
    "- On the final weights the slow programmer's update dTheta_t = L(h) Q(h), a product of two unbounded",
    "  linear heads of the raw observation, is 56 rad per step (median of the largest entry; p90 505 rad)",
    "  against 0.24 rad at initialisation, and the fast weights reach 530 rad (p90 3.1e3) within an",
    "  episode against 2.3. The RY angles wrap around many times per episode, so the circuit's output at",
    "  step t no longer follows the observations: the policy is scrambled, the return that of chance.",
    "- What would avoid it (not run): bounded updates (tanh heads), a decay on Theta_t, or observation",
    "  normalisation (normalize_obs) so that the quadratic update cannot grow with the cart's velocity.",
    "",
    "## MiniGrid-Empty-5x5",
    "",
    "- QFWP solves it: training average 0.9 at episode 2882, evaluation 0.929.",
    "- The classical LSTM core with the quantum cores' A2C setting (lr 0.01, clip 1.0) solves it in 467",
    "  episodes at hidden 8 (the paper's figure) and 1390 at hidden 4 (evaluation 0.950 / 0.953).",
    "- QLSTM (hidden 4) plateaus: its training average sits at 0.68-0.80 from episode ~800 to 3000",
    "  (evaluation 0.769). Cause (rl_diagnosis_minigrid-empty-5x5.md, first 150 episodes): as on CartPole,",
    "  its policy hardly depends on the observation, logits spread by 1e-5 to 8e-7 over states against",
    "  3e-4 to 7e-5 for the LSTM core, and the gradient reaching its gate circuits is 1e-4 to 7e-4 against",
    "  0.06-0.11 for the LSTM cell; what it learns is mostly in the read-out head (0.1-0.2).",
]

COMMANDS = [
    "nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/repro_rl.py --only <id> --minutes <m>",
    ".venv/bin/python benchmarks/repro_rl.py --summarize",
]


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    add_out(parser)
    add_entry_options(parser, runs=RESULTS / "repro_rl", runs_help="run folders (checkpoints)", shard=False)
    parser.add_argument("--minutes", type=float, default=None, help="stop each entry after this long")
    args = parser.parse_args(argv)
    if not args.summarize:
        chosen = select_entries(parser, [e[0] for e in ENTRIES], only=args.only)
        for entry_id, model, env, episodes, options in ENTRIES:
            if entry_id in chosen:
                run_entry(entry_id, model, env, episodes, options, args.runs, args.minutes)
    summarize(args.out, args.runs, COMMANDS)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
