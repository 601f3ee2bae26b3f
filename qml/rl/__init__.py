"""Reinforcement learning with quantum recurrent policies: environments (gymnasium CartPole,
MiniGrid), a recurrent actor-critic around QFWP/QLSTM, and episodic A2C training."""

from .a2c import A2CConfig, evaluate_policy, train_a2c
from .agent import RecurrentActorCritic
from .envs import ENVIRONMENTS, make_env

__all__ = ["ENVIRONMENTS", "A2CConfig", "RecurrentActorCritic", "evaluate_policy", "make_env", "train_a2c"]
