"""Reinforcement learning with quantum recurrent policies: a recurrent actor-critic whose core is
any registered rl model (QFWP, QLSTM, the classical LSTM baseline), episodic A2C training, and the
``rl`` task, on the environments of :mod:`data.environments`."""

from . import task as _task  # noqa: F401  (registers the rl task)
from .a2c import A2CConfig, evaluate_policy, train_a2c
from .agent import ClassicalLSTM, RecurrentActorCritic, registered_core

__all__ = [
    "A2CConfig",
    "ClassicalLSTM",
    "RecurrentActorCritic",
    "evaluate_policy",
    "registered_core",
    "train_a2c",
]
