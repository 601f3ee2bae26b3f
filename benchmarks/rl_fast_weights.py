"""Why a QFWP agent's return collapses late in training: the size of its fast weights.

QFWP's memory is ``Theta_t = Theta_{t-1} + L(h_t) Q(h_t)``, used as RY angles. This probe rolls
out a trained run's policy and, for comparison, the same agent freshly initialised, and reports
per step the update size ``|dTheta_t|``, the largest angle ``|Theta_t|``, the policy's entropy and
how much its logits depend on the observation. Angles of hundreds of radians wrap around many
times within an episode, so the circuit's output at step t no longer follows the observations.

    .venv/bin/python benchmarks/rl_fast_weights.py --run benchmarks/results/repro_rl/qfwp-cartpole
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.harness import add_out, markdown_table, new_parser, run_main, write_results  # noqa: E402


def rollout(net, env_name: str, episodes: int, seed: int) -> dict:
    """Sampled episodes of ``net``: per-step update norms, largest angles and entropies."""
    from data.environments import make_env

    env = make_env(env_name, seed)
    gen = torch.Generator().manual_seed(seed)
    steps, angles, entropy, lengths = [], [], [], []
    for _ in range(episodes):
        obs = torch.as_tensor(env.reset())
        state = net.initial_state(obs)
        length = 0
        with torch.no_grad():
            for _ in range(env.spec.max_steps):
                logits, _, new = net.step(obs.to(torch.get_default_dtype()), state)
                steps.append(float((new - state).abs().max()))
                angles.append(float(new.abs().max()))
                p = torch.softmax(logits, 0)
                entropy.append(float(-(p * p.clamp_min(1e-30).log()).sum()))
                state = new
                action = int(torch.multinomial(p.float(), 1, generator=gen))
                obs_np, _, done = env.step(action)
                obs = torch.as_tensor(obs_np)
                length += 1
                if done:
                    break
        lengths.append(length)
    env.close()
    q = [0.5, 0.9]
    return {
        "episodes": episodes,
        "mean_length": float(np.mean(lengths)),
        "update_max_abs_median_p90": [float(v) for v in np.quantile(steps, q)],
        "angle_max_abs_median_p90": [float(v) for v in np.quantile(angles, q)],
        "entropy_median": float(np.median(entropy)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--run", type=Path, required=True, help="a finished QFWP RL run folder")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=123)
    add_out(parser)
    args = parser.parse_args(argv)
    from qml import registry
    from qml.training.experiment import load_trained, run_task

    trained, saved = load_trained(args.run)
    env_name = saved["dataset"]
    torch.manual_seed(saved["config"].get("seed", 0))
    fresh = run_task(saved).build(
        registry.get(saved["model"]), saved["info"], saved["engine"], saved["model_options"]
    )
    rows = {"trained (final weights)": rollout(trained, env_name, args.episodes, args.seed)}
    rows["fresh initialisation"] = rollout(fresh.eval(), env_name, args.episodes, args.seed)
    table = markdown_table(
        [
            "weights",
            "mean episode length",
            "largest update dTheta_t, median / p90 (rad)",
            "largest angle Theta_t, median / p90 (rad)",
            "policy entropy (median)",
        ],
        [
            [
                k,
                f"{v['mean_length']:.1f}",
                "{:.3g} / {:.3g}".format(*v["update_max_abs_median_p90"]),
                "{:.3g} / {:.3g}".format(*v["angle_max_abs_median_p90"]),
                f"{v['entropy_median']:.3f}",
            ]
            for k, v in rows.items()
        ],
    )
    md = [
        f"# QFWP fast weights during {env_name} episodes ({args.run.name})",
        "",
        f"{args.episodes} sampled episodes each (seed {args.seed}); per step, the largest entry of the "
        "update dTheta_t = L(h) Q(h) and of the fast weights Theta_t (RY angles, radians).",
        "",
        *table,
        "",
        f"Command: `.venv/bin/python benchmarks/rl_fast_weights.py --run {args.run}`",
    ]
    write_results(args.out, "rl_fast_weights", {"run": str(args.run), "rows": rows}, "\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    run_main(main)
