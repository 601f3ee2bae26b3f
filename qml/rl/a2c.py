"""Episodic advantage actor-critic (A2C) for recurrent policies, with a return curve.

Each episode is rolled out with the recurrent state carried step to step; then one update with
discounted returns ``G_t`` (standardised per episode where the environment asks for it),
advantages ``A_t = G_t - V(s_t)``, loss ``-log pi(a_t) A_t + value_coef L(G_t, V) - entropy_coef
H(pi)`` (``L``: squared error or Huber) and back-propagation through the episode. Training
stops when the moving average over ``window`` episodes reaches the task's solved return, or
after ``episodes``. ``out_dir/checkpoint.pt`` (the shared trainer's format: model, optimiser,
sampling generator, plus the environment's RNG and the returns so far) is written every
``checkpoint_every`` episodes; ``resume=True`` continues from it exactly as if never stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from circuits.errors import ConfigurationError
from data.environments import make_env
from qml.training.checkpoint import load_checkpoint, save_checkpoint
from qml.training.optim import TrainingInterrupted
from qml.training.runs import save_torch, write_json

#: ``on_update(episode, agent, losses)``: called before ``backward`` with the loss terms (tensors
#: ``policy``, ``value``, ``entropy``; ``return``, a float), e.g. to measure each term's
#: gradient with ``torch.autograd.grad(..., retain_graph=True)``
UpdateHook = Callable[[int, nn.Module, dict[str, Any]], None]


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


def _env_rng(env) -> str:
    """The environment's numpy RNG state as JSON (its 128-bit integers survive the checkpoint's
    ``weights_only`` load as text)."""
    return json.dumps(env.env.unwrapped.np_random.bit_generator.state)


def _set_env_rng(env, state: str) -> None:
    env.reset()  # the first reset seeds the environment; the restored state then replaces it
    env.env.unwrapped.np_random.bit_generator.state = json.loads(state)


def train_a2c(
    agent: nn.Module,
    env_name: str,
    config: A2CConfig,
    *,
    out_dir: Path,
    progress: bool = True,
    extra: dict[str, Any] | None = None,
    resume: bool = False,
    checkpoint_every: int = 10,
    on_update: UpdateHook | None = None,
) -> dict[str, Any]:
    """Train ``agent`` on ``env_name``; writes ``metrics.json`` (``mean_return``: the evaluation
    average over ``eval_episodes``), ``model.pt``, ``returns.png`` and ``checkpoint.pt`` (every
    ``checkpoint_every`` episodes; ``resume`` continues from it, and ``config.episodes`` may
    then be larger than the run first planned)."""
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
    seconds = 0.0  # training time of earlier sessions of a resumed run
    ckpt_path = out_dir / "checkpoint.pt"

    def checkpoint(done: int) -> None:
        save_checkpoint(
            ckpt_path,
            agent,
            optimizer,
            None,
            generator,
            epoch=done,
            history={"returns": returns},
            solved_at=solved_at,
            train_seconds=seconds + time.perf_counter() - t0,
            env_rng=_env_rng(env),
            torch_rng=torch.get_rng_state(),
        )

    t0 = time.perf_counter()
    if resume:
        state = load_checkpoint(ckpt_path, agent, optimizer, None, generator)
        returns = [float(r) for r in state["history"]["returns"]]
        solved_at, seconds = state.get("solved_at"), float(state.get("train_seconds", 0.0))
        torch.set_rng_state(state["torch_rng"])
        if state["epoch"]:
            _set_env_rng(env, state["env_rng"])
    else:
        checkpoint(0)  # episode 0: a run stopped during its first episodes can be resumed too
    start = len(returns)
    finished = solved_at is not None and config.stop_when_solved
    bar = tqdm(
        range(start, config.episodes),
        desc=f"A2C {env_name}",
        disable=not progress or finished,
        unit="episode",
        initial=start,
        total=config.episodes,
    )
    episode = start
    try:
        for episode in [] if finished else bar:
            agent.train()
            logps, values, entropies, rewards = run_episode(agent, env, generator=generator)
            g = _returns(rewards, env.spec.gamma if config.gamma is None else config.gamma)
            if normalize_returns and len(g) > 1:
                g = (g - g.mean()) / (g.std() + 1e-8)
            v = torch.stack(values).to(g.dtype)
            adv = (g - v).detach()
            if config.normalize_advantage and len(adv) > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            value_loss = (
                nn.functional.smooth_l1_loss(v, g) if value_kind == "huber" else (g - v).pow(2).mean()
            )
            policy_loss = -(torch.stack(logps).to(g.dtype) * adv).mean()
            entropy = torch.stack(entropies).mean()
            loss = policy_loss + config.value_coef * value_loss - config.entropy_coef * entropy
            if on_update is not None:
                terms = {"policy": policy_loss, "value": value_loss, "entropy": entropy}
                on_update(episode, agent, {**terms, "return": float(sum(rewards))})
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), config.grad_clip)
            optimizer.step()
            returns.append(float(sum(rewards)))
            avg = float(np.mean(returns[-config.window :]))
            bar.set_postfix(ret=f"{returns[-1]:.2f}", avg=f"{avg:.2f}")
            if solved_at is None and len(returns) >= config.window and avg >= env.spec.solved_return:
                solved_at = episode + 1
            if (episode + 1) % checkpoint_every == 0 or solved_at == episode + 1:
                checkpoint(episode + 1)
            if solved_at is not None and config.stop_when_solved:
                break
    except KeyboardInterrupt:
        raise TrainingInterrupted(
            f"training stopped in episode {episode + 1}; {ckpt_path} holds the episodes before it "
            f"up to the last multiple of {checkpoint_every}: continue with 'ketml train --resume {out_dir}'"
        ) from None
    checkpoint(len(returns))
    env.close()
    train_seconds = seconds + time.perf_counter() - t0
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
