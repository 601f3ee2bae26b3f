"""RL: environments, the recurrent actor-critic, discounted returns, and a short A2C run."""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("gymnasium")

from circuits.errors import UnknownNameError  # noqa: E402
from data.environments import make_env  # noqa: E402
from qml.rl import A2CConfig, RecurrentActorCritic, train_a2c  # noqa: E402
from qml.rl.a2c import _returns, run_episode  # noqa: E402


def test_environments_give_flat_observations():
    env = make_env("cartpole", seed=0)
    assert env.obs_dim == 4 and env.n_actions == 2
    obs, reward, done = env.step(0)
    assert obs.shape == (4,) and reward == 1.0
    pytest.importorskip("minigrid")
    grid = make_env("minigrid-empty-5x5", seed=0)
    assert grid.obs_dim == 147 and grid.n_actions == 3
    assert 0 <= grid.reset().min() and grid.reset().max() <= 1
    with pytest.raises(UnknownNameError, match="unknown environment"):
        make_env("pong")


def test_discounted_returns():
    torch.testing.assert_close(_returns([1.0, 0.0, 2.0], 0.5), torch.tensor([1.5, 1.0, 2.0]))


@pytest.mark.parametrize("core", ["qfwp", "qlstm", "lstm"])
def test_recurrent_agent_carries_state_through_the_episode(core):
    torch.manual_seed(0)
    env = make_env("cartpole", seed=1)
    agent = RecurrentActorCritic(core, env.obs_dim, env.n_actions)
    obs = torch.as_tensor(env.reset())
    state0 = agent.initial_state(obs)
    logits1, value1, state1 = agent.step(obs, state0)
    logits2, _, _ = agent.step(obs, state1)
    assert logits1.shape == (2,) and value1.ndim == 0
    assert not torch.allclose(logits1, logits2)  # same observation, different memory
    logps, values, entropies, rewards = run_episode(agent, env)
    assert len(logps) == len(values) == len(rewards) >= 8
    with pytest.raises(ValueError, match="core"):
        RecurrentActorCritic("gru", 4, 2)


def test_a2c_run_writes_metrics_and_return_curve(tmp_path):
    torch.manual_seed(0)
    env = make_env("cartpole", seed=0)
    agent = RecurrentActorCritic("qfwp", env.obs_dim, env.n_actions)
    before = [p.detach().clone() for p in agent.parameters()]
    metrics = train_a2c(
        agent, "cartpole", A2CConfig(episodes=3, eval_episodes=2, window=2), out_dir=tmp_path, progress=False
    )
    assert metrics["episodes"] == 3 and len(metrics["returns"]) == 3
    assert metrics["mean_return"] >= 8  # CartPole lasts at least 8 steps
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.parameters(), strict=True))
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["mean_return"] == metrics["mean_return"]
    assert (tmp_path / "returns.png").read_bytes()[:4] == b"\x89PNG"


def test_minigrid_discounts_at_its_own_gamma(tmp_path, monkeypatch):
    """``A2CConfig.gamma=None`` takes the environment's discount (0.9 for MiniGrid, 0.99 CartPole)."""
    pytest.importorskip("minigrid")
    from qml.rl import a2c

    seen = []
    real = a2c._returns
    monkeypatch.setattr(a2c, "_returns", lambda r, g: seen.append(g) or real(r, g))
    for name, gamma in (("minigrid-empty-5x5", 0.9), ("cartpole", 0.99)):
        env = make_env(name)
        agent = RecurrentActorCritic("lstm", env.obs_dim, env.n_actions)
        train_a2c(agent, name, A2CConfig(episodes=1, eval_episodes=1), out_dir=tmp_path, progress=False)
        assert seen[-1] == gamma
    train_a2c(
        agent, "cartpole", A2CConfig(episodes=1, eval_episodes=1, gamma=0.5), out_dir=tmp_path, progress=False
    )
    assert seen[-1] == 0.5


@pytest.mark.slow
def test_classical_lstm_agent_solves_minigrid_empty(tmp_path):
    """The A2C trainer itself can solve Empty-5x5 (the baseline that the quantum cores face)."""
    pytest.importorskip("minigrid")
    torch.manual_seed(0)
    env = make_env("minigrid-empty-5x5")
    agent = RecurrentActorCritic("lstm", env.obs_dim, env.n_actions, hidden_size=8)
    metrics = train_a2c(
        agent, "minigrid-empty-5x5", A2CConfig(episodes=800), out_dir=tmp_path, progress=False
    )
    assert metrics["mean_return"] >= 0.9


def test_cartpole_standardises_returns_and_uses_huber(tmp_path, monkeypatch):
    """CartPole's value targets are its returns standardised per episode (mean 0, std 1) with a
    Huber value loss; MiniGrid keeps raw returns; a config overrides the environment's choice."""
    from qml.rl import a2c

    seen = []
    real = torch.nn.functional.smooth_l1_loss
    monkeypatch.setattr(
        a2c.nn.functional, "smooth_l1_loss", lambda v, g: seen.append(g.detach().clone()) or real(v, g)
    )
    env = make_env("cartpole")
    agent = RecurrentActorCritic("lstm", env.obs_dim, env.n_actions)
    train_a2c(agent, "cartpole", A2CConfig(episodes=2, eval_episodes=1), out_dir=tmp_path, progress=False)
    assert len(seen) == 2
    for g in seen:
        assert abs(float(g.mean())) < 1e-6 and abs(float(g.std()) - 1.0) < 1e-6
    train_a2c(
        agent,
        "cartpole",
        A2CConfig(episodes=1, eval_episodes=1, value_loss="mse", normalize_returns=False),
        out_dir=tmp_path,
        progress=False,
    )
    assert len(seen) == 2  # the override took the squared error
    with pytest.raises(ValueError, match="value_loss"):
        train_a2c(
            agent,
            "cartpole",
            A2CConfig(episodes=1, value_loss="l1"),
            out_dir=tmp_path / "bad",
            progress=False,
        )
    assert not (tmp_path / "bad").exists()
    from data.environments import ENVIRONMENTS

    assert ENVIRONMENTS["cartpole"].normalize_returns
    assert not ENVIRONMENTS["minigrid-empty-5x5"].normalize_returns


@pytest.mark.slow
def test_classical_lstm_agent_solves_cartpole(tmp_path):
    """With standardised returns the A2C trainer solves CartPole-v1 (measured: 348 episodes)."""
    torch.manual_seed(0)
    env = make_env("cartpole")
    agent = RecurrentActorCritic("lstm", env.obs_dim, env.n_actions, hidden_size=8)
    metrics = train_a2c(
        agent, "cartpole", A2CConfig(episodes=800, eval_episodes=20), out_dir=tmp_path, progress=False
    )
    assert metrics["episodes_to_solve"] is not None and metrics["mean_return"] >= 195


def test_agent_takes_a_core_factory_and_the_rl_task_builds_registered_cores():
    """The core is any factory ``(n_in, n_out) -> module``; by name, the registry's rl models."""
    from qml import registry
    from qml.rl import ClassicalLSTM

    sizes = []

    def factory(n_in, n_out):
        sizes.append((n_in, n_out))
        return ClassicalLSTM(n_in, 5, n_out)

    agent = RecurrentActorCritic(factory, 147, 3)  # MiniGrid's view: encoded down to 4 inputs
    assert sizes == [(4, 4)] and agent.core.hidden_size == 5
    logits, value, _ = agent.step(torch.rand(147), agent.initial_state(torch.zeros(147)))
    assert logits.shape == (3,) and value.ndim == 0
    with pytest.raises(ValueError, match="factory"):
        RecurrentActorCritic(factory, 4, 2, hidden_size=3)
    rl = registry.get_task("rl")
    assert {"qfwp", "qlstm", "lstm"} <= {s.name for s in registry.specs() if rl.name in s.tasks}
    agent = rl.build(registry.get("qlstm"), {"obs_dim": 4, "n_actions": 2}, "torch", {})
    assert agent.core.hidden_size == 4  # the qlstm model's rl preset, as before the registry held it


@pytest.mark.parametrize(("env_name", "core"), [("cartpole", "qfwp"), ("minigrid-empty-5x5", "lstm")])
def test_interrupted_and_resumed_run_ends_where_an_uninterrupted_one_does(
    tmp_path, monkeypatch, env_name, core
):
    """Ctrl-C in episode 5 (checkpoints every 3 episodes), then ``resume``: the same returns and
    the same weights, bit for bit, as one run straight through (the environment's RNG, the
    sampling generator and the optimiser's moments are all restored)."""
    if env_name.startswith("minigrid"):
        pytest.importorskip("minigrid")
    from qml.rl import a2c
    from qml.training.optim import TrainingInterrupted

    env = make_env(env_name)
    config = A2CConfig(episodes=7, eval_episodes=1, seed=3)

    def fresh():
        torch.manual_seed(0)
        return RecurrentActorCritic(core, env.obs_dim, env.n_actions)

    straight = fresh()
    ref = train_a2c(straight, env_name, config, out_dir=tmp_path / "a", progress=False, checkpoint_every=3)

    real, calls = a2c.run_episode, []

    def interrupting(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(a2c, "run_episode", interrupting)
    with pytest.raises(TrainingInterrupted, match="resume"):
        train_a2c(fresh(), env_name, config, out_dir=tmp_path / "b", progress=False, checkpoint_every=3)
    monkeypatch.setattr(a2c, "run_episode", real)
    resumed = fresh()  # other weights in memory: the checkpoint must bring back episode 3's
    out = train_a2c(
        resumed, env_name, config, out_dir=tmp_path / "b", progress=False, checkpoint_every=3, resume=True
    )
    assert len(set(ref["returns"])) > 1  # the episodes differ, so the comparison means something
    assert out["returns"] == ref["returns"] and out["mean_return"] == ref["mean_return"]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_resume_extends_a_finished_rl_run_through_the_experiment_api(tmp_path):
    """``train(resume=run, epochs=more)`` continues an rl run (what ``ketml train --resume`` does):
    4 episodes then 2 more end as 6 straight through."""
    from qml.training.experiment import train

    run_a, ref = train("lstm", "cartpole", out=tmp_path / "a", epochs=6, progress=False)
    run_b, _ = train("lstm", "cartpole", out=tmp_path / "b", epochs=4, progress=False)
    _, out = train(None, resume=run_b, epochs=6, progress=False)
    assert len(out["returns"]) == 6 and out["returns"] == ref["returns"]
    assert json.loads((run_b / "run.json").read_text())["config"]["epochs"] == 6


def test_running_observation_norm_standardises_and_is_saved_with_the_weights():
    """``normalize_obs``: each observation value standardised by the mean and std of all seen in
    training (not updated in eval mode), the statistics in the state dict (so checkpoints hold them)."""
    from qml import registry
    from qml.rl.agent import RunningNorm

    norm = RunningNorm(3)
    seen = torch.randn(50, 3, dtype=torch.float64) * torch.tensor([0.05, 2.0, 10.0]) + 1.0
    for chunk in seen.split(7):
        norm(chunk)
    norm.eval()
    out = norm(seen)
    torch.testing.assert_close(out.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(out.std(0), torch.ones(3, dtype=torch.float64))
    norm(seen * 100)  # eval mode: frozen
    assert int(norm.count) == 50 and {"count", "mean", "m2"} <= set(norm.state_dict())
    rl = registry.get_task("rl")
    agent = rl.build(registry.get("qlstm"), {"obs_dim": 4, "n_actions": 2}, "torch", {"normalize_obs": True})
    assert isinstance(agent.encoder[0], RunningNorm)
    assert isinstance(RecurrentActorCritic("lstm", 4, 2).encoder, torch.nn.Identity)


def test_update_hook_sees_each_loss_term_before_the_step(tmp_path):
    """``on_update`` gets the policy, value and entropy terms with their graphs (before backward),
    so a diagnosis can take each term's gradient; the update itself is unchanged by it."""
    torch.manual_seed(0)
    agent = RecurrentActorCritic("lstm", 4, 2)
    seen = []

    def hook(episode, model, terms):
        grads = torch.autograd.grad(terms["policy"], list(model.parameters()), retain_graph=True)
        seen.append((episode, sorted(terms), float(sum(g.abs().sum() for g in grads)), terms["return"]))

    metrics = train_a2c(
        agent,
        "cartpole",
        A2CConfig(episodes=2, eval_episodes=1),
        out_dir=tmp_path,
        progress=False,
        on_update=hook,
    )
    assert [s[0] for s in seen] == [0, 1] and seen[0][1] == ["entropy", "policy", "return", "value"]
    assert all(s[2] > 0 for s in seen) and [s[3] for s in seen] == metrics["returns"]
