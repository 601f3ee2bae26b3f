"""Why an RL core does not learn: per-episode gradient norms of the A2C loss terms (policy, value,
entropy) and of each parameter group, the share the joint gradient clip leaves, and the policy's
entropy, for QLSTM, QFWP and the classical LSTM core on the same episodes budget.

Writes ``<out>/rl_diagnosis.{json,md}`` (medians over the episodes in each block of ``--block``).

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rl_diagnosis.py --episodes 150
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import add_out, machine_summary, markdown_table, new_parser, run_main, write_results  # noqa: E402

#: (id, core, lr, core options)
CASES = [
    ("qlstm-lr0.01", "qlstm", 0.01, {}),
    ("qfwp-lr0.01", "qfwp", 0.01, {}),
    ("lstm-lr0.01", "lstm", 0.01, {}),
    ("qlstm-4vqc-lr0.01", "qlstm", 0.01, {"n_vqc": 4}),
    ("qlstm-4qubits-lr0.01", "qlstm", 0.01, {"n_qubits": 4}),
    ("qlstm-normobs-lr0.01", "qlstm", 0.01, {"normalize_obs": True}),
    ("qlstm-4vqc-normobs-lr0.01", "qlstm", 0.01, {"n_vqc": 4, "normalize_obs": True}),
    ("qlstm-4vqc-4qubits-normobs-lr0.01", "qlstm", 0.01, {"n_vqc": 4, "n_qubits": 4, "normalize_obs": True}),
]


def _norm(grads) -> float:
    return float(np.sqrt(sum(float(g.pow(2).sum()) for g in grads if g is not None)))


def diagnose(core: str, lr: float, options: dict, env_name: str, episodes: int, seed: int = 0) -> dict:
    """Train ``episodes`` of A2C and record, per episode, the gradient norm of each loss term
    (before the clip) and of the total per parameter group."""
    import torch

    from data.environments import make_env
    from qml.rl import A2CConfig, RecurrentActorCritic, train_a2c

    torch.manual_seed(seed)
    env = make_env(env_name, seed)
    options = dict(options)
    agent = RecurrentActorCritic(
        core, env.obs_dim, env.n_actions, normalize_obs=options.pop("normalize_obs", False), **options
    )
    config = A2CConfig(episodes=episodes, lr=lr, seed=seed, eval_episodes=1, stop_when_solved=False)
    names = [n for n, p in agent.named_parameters() if p.requires_grad]
    params = [p for p in agent.parameters() if p.requires_grad]
    groups = sorted({n.rsplit(".", 1)[0] for n in names})
    rec: dict[str, list[float]] = {}
    probe_env = make_env(env_name, seed + 1)  # states of a random policy: how much the output depends on them
    probe = [probe_env.reset()]
    while len(probe) < 64:
        obs, _, done = probe_env.step(int(np.random.default_rng(len(probe)).integers(env.n_actions)))
        probe.append(probe_env.reset() if done else obs)
    probe = torch.as_tensor(np.stack(probe)).to(torch.get_default_dtype())

    def hook(episode, model, terms):
        policy = torch.autograd.grad(terms["policy"], params, retain_graph=True, allow_unused=True)
        value = torch.autograd.grad(
            config.value_coef * terms["value"], params, retain_graph=True, allow_unused=True
        )
        entropy = torch.autograd.grad(
            config.entropy_coef * terms["entropy"], params, retain_graph=True, allow_unused=True
        )
        total = [
            sum(g for g in (a, b, c) if g is not None) if any(g is not None for g in (a, b, c)) else None
            for a, b, c in zip(policy, value, entropy, strict=True)
        ]
        row = {
            "return": terms["return"],
            "entropy": float(terms["entropy"].detach()),
            "policy_loss": float(terms["policy"].detach()),
            "value_loss": float(terms["value"].detach()),
            "grad_policy": _norm(policy),
            "grad_value": _norm(value),
            "grad_entropy": _norm(entropy),
            "grad_total": _norm(total),
        }
        row["clip_scale"] = min(1.0, config.grad_clip / (row["grad_total"] + 1e-12))
        model.eval()  # the probe must not move running observation statistics
        with torch.no_grad():  # first step from the initial state, on 64 different observations
            out, _ = model.core.step(model.encoder(probe), model.core.initial_state(len(probe), probe))
        model.train()
        logits = out[:, : model.n_actions]
        row["logit_spread_over_states"] = float((logits - logits.mean(1, keepdim=True)).std(0).mean())
        row["value_spread_over_states"] = float(out[:, model.n_actions].std())
        for group in groups:
            row[f"group:{group}"] = _norm(
                [g for n, g in zip(names, total, strict=True) if n.rsplit(".", 1)[0] == group]
            )
        for key, value_ in row.items():
            rec.setdefault(key, []).append(value_)

    with tempfile.TemporaryDirectory() as tmp:
        train_a2c(agent, env_name, config, out_dir=Path(tmp), progress=False, on_update=hook)
    n_params = {
        g: sum(p.numel() for n, p in agent.named_parameters() if n.rsplit(".", 1)[0] == g) for g in groups
    }
    return {
        "core": core,
        "lr": lr,
        "options": options,
        "episodes": episodes,
        "n_params": n_params,
        "record": rec,
    }


def circuit_probe(samples: int = 64, seed: int = 0) -> list[dict]:
    """How much QLSTM's gate circuits and first-step output vary with their inputs at
    initialisation: mean ``|d<Z>/d angle|``, the std of ``<Z>`` over unit-variance input angles, and
    the std of the cell state, the hidden state and the output over unit-variance inputs."""
    import torch

    from qml.sequence.qlstm import QLSTM

    rows = []
    for n_in, hidden, n_qubits, n_vqc in ((4, 4, None, 6), (4, 4, 4, 6), (4, 4, None, 4), (1, 3, None, 6)):
        torch.manual_seed(seed)
        m = QLSTM(n_in, hidden, 3, n_qubits=n_qubits, n_vqc=n_vqc)
        n = m.n_qubits
        v = torch.randn(samples, 2 * n, requires_grad=True)
        z = m.gates(v.repeat(1, 4)).reshape(samples, 4, n)[:, 0]
        slopes = [torch.autograd.grad(z[:, k].sum(), v, retain_graph=True)[0].abs().mean() for k in range(n)]
        x = torch.randn(samples, n_in)
        with torch.no_grad():
            y, (h, c) = m.step(x, m.initial_state(samples, x))
        rows.append(
            {
                "input_size": n_in,
                "hidden_size": hidden,
                "n_qubits": n,
                "n_vqc": n_vqc,
                "mean_abs_dZ_dangle": float(torch.stack(slopes).mean()),
                "Z_std_over_inputs": float(z.detach().std(0).mean()),
                "c_std": float(c.std(0).mean()),
                "h_std": float(h.std(0).mean()),
                "y_std": float(y.std(0).mean()),
            }
        )
    return rows


ENV_TITLES = {"cartpole": "CartPole-v1", "minigrid-empty-5x5": "MiniGrid-Empty-5x5"}


def results_name(env: str) -> str:
    """``rl_diagnosis`` for CartPole (the first study), ``rl_diagnosis_<env>`` for the others."""
    return "rl_diagnosis" if env == "cartpole" else f"rl_diagnosis_{env}"


def summarize(results: dict, block: int, env: str = "cartpole") -> list[str]:
    title = ENV_TITLES.get(env, env)
    lines = [f"# RL diagnosis: A2C gradient norms per loss term and parameter group ({title})", ""]
    keys = ["return", "entropy", "grad_policy", "grad_value", "grad_entropy", "grad_total", "clip_scale"]
    keys += ["logit_spread_over_states", "value_spread_over_states"]
    for case, res in results.items():
        rec = res["record"]
        n = len(rec["return"])
        rows = []
        for start in range(0, n, block):
            sl = slice(start, min(n, start + block))
            rows.append(
                [f"{start + 1}-{min(n, start + block)}"]
                + [f"{np.median(rec[k][sl]):.3g}" for k in keys]
                + [f"{np.median(rec[k][sl]):.2g}" for k in rec if k.startswith("group:")]
            )
        groups = [k.removeprefix("group:") for k in rec if k.startswith("group:")]
        header = ["episodes", *keys, *[f"|g| {g} ({res['n_params'][g]})" for g in groups]]
        lines += [f"## {case} (medians per block of {block} episodes)", "", *markdown_table(header, rows), ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    add_out(parser)
    parser.add_argument("--episodes", type=int, default=150)
    parser.add_argument("--block", type=int, default=25)
    parser.add_argument("--env", default="cartpole")
    parser.add_argument("--only", nargs="*", help="case ids (default: all)")
    parser.add_argument("--probe", action="store_true", help="only the circuits' input sensitivity")
    args = parser.parse_args(argv)
    if args.probe:
        rows = circuit_probe()
        keys = list(rows[0])
        lines = [
            "# QLSTM at initialisation: how much its circuits and first step depend on the input",
            "",
            "64 unit-variance inputs, seed 0; `Z`: <Z> of the first gate circuit; c, h, y: the first step's",
            "cell state, hidden state and output (std over the inputs, averaged over units).",
            "",
            *markdown_table(
                keys, [[f"{r[k]:.3g}" if isinstance(r[k], float) else r[k] for k in keys] for r in rows]
            ),
            "",
            "Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rl_diagnosis.py --probe`",
        ]
        write_results(args.out, "rl_qlstm_probe", {"rows": rows}, lines)
        print("\n".join(lines))
        return 0
    results = {}
    for case, core, lr, options in CASES:
        if args.only and case not in args.only:
            continue
        results[case] = diagnose(core, lr, options, args.env, args.episodes)
        print(f"{case}: done", flush=True)
    lines = summarize(results, args.block, args.env)
    command = "nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rl_diagnosis.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    lines += ["", f"Command: `{command}`"]
    write_results(
        args.out,
        results_name(args.env),
        {"results": results, "command": command, "env": args.env, "machine": machine_summary("torch")},
        lines,
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
