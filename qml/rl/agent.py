"""A recurrent actor-critic whose core is a quantum sequence model (QFWP or QLSTM).

Observations go through an optional classical encoder (``Linear + tanh`` down to ``n_inputs``
values, needed for MiniGrid's 147-value view), then one step of the core per environment step,
carrying its state (QFWP's fast weights, QLSTM's ``(h, c)``) through the episode. The core's
output has ``n_actions + 1`` values: policy logits and the state value.
"""

from __future__ import annotations

import torch
from torch import nn


class RecurrentActorCritic(nn.Module):
    def __init__(
        self,
        core: str,
        obs_dim: int,
        n_actions: int,
        *,
        n_inputs: int | None = None,
        engine: str = "torch",
        **core_options,
    ):
        super().__init__()
        n_in = n_inputs or (obs_dim if obs_dim <= 4 else 4)
        self.encoder = (
            nn.Identity() if n_in == obs_dim else nn.Sequential(nn.Linear(obs_dim, n_in), nn.Tanh())
        )
        self.core_name = core
        self.n_actions = n_actions
        if core == "qfwp":
            from qml.qfwp import QFWP

            self.core = QFWP(n_in, n_actions + 1, engine=engine, **core_options)
        elif core == "qlstm":
            from qml.qlstm import QLSTM

            self.core = QLSTM(
                n_in, core_options.pop("hidden_size", 4), n_actions + 1, engine=engine, **core_options
            )
        else:
            raise ValueError(f"core must be 'qfwp' or 'qlstm'; got {core!r}")

    def initial_state(self, like: torch.Tensor):
        return self.core.initial_state(1, like)

    def step(self, obs: torch.Tensor, state):
        """``obs`` ``(obs_dim,)`` -> ``(logits (n_actions,), value (), state)``."""
        out, state = self.core.step(self.encoder(obs.unsqueeze(0)), state)
        return out[0, : self.n_actions], out[0, self.n_actions], state
