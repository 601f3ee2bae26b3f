"""Episodic advantage actor-critic (A2C) for recurrent policies, with a return curve.

Each episode is rolled out with the recurrent state carried step to step; then one update with
discounted returns ``G_t`` (standardised per episode where the environment asks for it),
advantages ``A_t = G_t - V(s_t)``, loss ``-log pi(a_t) A_t + value_coef L(G_t, V) - entropy_coef
H(pi)`` (``L``: squared error or Huber) and back-propagation through the episode. Training
stops when the moving average over ``window`` episodes reaches the task's solved return, or
after ``episodes``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from circuits.errors import ConfigurationError
from data.environments import make_env
from qml.training.runs import save_torch, write_json


@dataclass
class A2CConfig:
    episodes: int = 1000
    lr: float = 0.01
    gamma: float | None = None  # None: the environment's (EnvSpec.gamma)
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    grad_clip: float = 1.0
    window: int = 100
    eval_episodes: int = 100
    seed: int = 0
    stop_when_solved: bool = True
    normalize_advantage: bool = False
    # standardise each episode's returns before they become value targets and advantages; None:
    # the environment's choice (EnvSpec.normalize_returns, on for CartPole)
    normalize_returns: bool | None = None
    value_loss: str | None = None  # "mse" or "huber" (bounded value gradients); None: the env's


def _returns(rewards: list[float], gamma: float) -> torch.Tensor:
    out, g = [], 0.0
    for r in reversed(rewards):
        g = r + gamma * g
        out.append(g)
    return torch.tensor(out[::-1], dtype=torch.get_default_dtype())


def run_episode(
    agent, env, *, greedy: bool = False, generator: torch.Generator | None = None, train: bool = True
):
    """Roll out one episode; returns (log-probs, values, entropies, rewards)."""
    obs = torch.as_tensor(env.reset())
    state = agent.initial_state(obs)
    logps, values, entropies, rewards = [], [], [], []
    for _ in range(env.spec.max_steps):
        with torch.set_grad_enabled(train):
            logits, value, state = agent.step(obs.to(torch.get_default_dtype()), state)
        dist = torch.distributions.Categorical(logits=logits)
        if greedy:
            action = int(logits.argmax())
        else:
            action = int(torch.multinomial(dist.probs.detach().float(), 1, generator=generator))
        logps.append(dist.log_prob(torch.tensor(action)))
        values.append(value)
        entropies.append(dist.entropy())
        obs_np, reward, done = env.step(action)
        rewards.append(reward)
        obs = torch.as_tensor(obs_np)
        if done:
            break
    return logps, values, entropies, rewards


def evaluate_policy(
    agent, env_name: str, episodes: int = 100, seed: int = 10_000, greedy: bool = False
) -> float:
    """Average return of ``episodes`` fresh episodes (sampling the policy unless ``greedy``)."""
    env = make_env(env_name, seed)
    gen = torch.Generator().manual_seed(seed)
    agent.eval()
    total = 0.0
    for _ in range(episodes):
        total += sum(run_episode(agent, env, greedy=greedy, generator=gen, train=False)[3])
    env.close()
    return total / episodes


def train_a2c(
    agent: nn.Module,
    env_name: str,
    config: A2CConfig,
    *,
    out_dir: Path,
    progress: bool = True,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``agent`` on ``env_name``; writes ``metrics.json`` (``mean_return``: the evaluation
    average over ``eval_episodes``), ``model.pt`` and ``returns.png``."""
    from tqdm.auto import tqdm

    if config.value_loss not in (None, "mse", "huber"):  # checked before anything is written
        raise ConfigurationError(f"value_loss must be 'mse' or 'huber'; got {config.value_loss!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    env = make_env(env_name, config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(agent.parameters(), lr=config.lr)
    normalize_returns = (
        env.spec.normalize_returns if config.normalize_returns is None else config.normalize_returns
    )
    value_kind = env.spec.value_loss if config.value_loss is None else config.value_loss
    returns: list[float] = []
    solved_at = None
    t0 = time.perf_counter()
    bar = tqdm(range(config.episodes), desc=f"A2C {env_name}", disable=not progress, unit="episode")
    for episode in bar:
        agent.train()
        logps, values, entropies, rewards = run_episode(agent, env, generator=generator)
        g = _returns(rewards, env.spec.gamma if config.gamma is None else config.gamma)
        if normalize_returns and len(g) > 1:
            g = (g - g.mean()) / (g.std() + 1e-8)
        v = torch.stack(values).to(g.dtype)
        adv = (g - v).detach()
        if config.normalize_advantage and len(adv) > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        value_loss = nn.functional.smooth_l1_loss(v, g) if value_kind == "huber" else (g - v).pow(2).mean()
        loss = (
            -(torch.stack(logps).to(g.dtype) * adv).mean()
            + config.value_coef * value_loss
            - config.entropy_coef * torch.stack(entropies).mean()
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(agent.parameters(), config.grad_clip)
        optimizer.step()
        returns.append(float(sum(rewards)))
        avg = float(np.mean(returns[-config.window :]))
        bar.set_postfix(ret=f"{returns[-1]:.2f}", avg=f"{avg:.2f}")
        if solved_at is None and len(returns) >= config.window and avg >= env.spec.solved_return:
            solved_at = episode + 1
            if config.stop_when_solved:
                break
    env.close()
    train_seconds = time.perf_counter() - t0
    save_torch(out_dir / "model.pt", agent.state_dict())
    mean_return = evaluate_policy(agent, env_name, config.eval_episodes, seed=config.seed + 10_000)
    from qml.training.loop import count_parameters

    metrics = {
        **(extra or {}),
        **count_parameters(agent),
        "mean_return": mean_return,
        "eval_episodes": config.eval_episodes,
        "solved_return": env.spec.solved_return,
        "solved": mean_return >= env.spec.solved_return,
        "episodes_to_solve": solved_at,
        "episodes": len(returns),
        "train_seconds": train_seconds,
        "returns": returns,
        "config": asdict(config),
    }
    _plot_returns(returns, config.window, env.spec.solved_return, out_dir / "returns.png", env_name)
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def _plot_returns(returns: list[float], window: int, solved: float, path: Path, title: str) -> None:
    from matplotlib.figure import Figure

    r = np.asarray(returns)
    avg = np.array([r[max(0, i - window + 1) : i + 1].mean() for i in range(len(r))])
    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    ax.plot(r, alpha=0.35, label="episode return")
    ax.plot(avg, lw=2, label=f"average of last {window}")
    ax.axhline(solved, color="gray", ls=":", label="solved")
    ax.set_xlabel("episode")
    ax.set_ylabel("return")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
