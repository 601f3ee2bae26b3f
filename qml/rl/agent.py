"""A recurrent actor-critic whose core is a quantum sequence model (QFWP or QLSTM).

Observations go through an optional classical encoder (``Linear + tanh`` down to ``n_inputs``
values, needed for MiniGrid's 147-value view), then one step of the core per environment step,
carrying its state (QFWP's fast weights, QLSTM's ``(h, c)``) through the episode. The core's
output has ``n_actions + 1`` values: policy logits and the state value. ``core="lstm"`` is the
classical baseline (a torch ``LSTMCell`` of the same hidden size) that separates what the A2C
trainer can do from what the quantum core adds.
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
        elif core == "lstm":  # the classical baseline: the same agent with a torch LSTM cell
            self.core = _ClassicalLSTM(n_in, core_options.pop("hidden_size", 4), n_actions + 1)
        else:
            raise ValueError(f"core must be 'qfwp', 'qlstm' or 'lstm'; got {core!r}")

    def initial_state(self, like: torch.Tensor):
        return self.core.initial_state(1, like)

    def step(self, obs: torch.Tensor, state):
        """``obs`` ``(obs_dim,)`` -> ``(logits (n_actions,), value (), state)``."""
        out, state = self.core.step(self.encoder(obs.unsqueeze(0)), state)
        return out[0, : self.n_actions], out[0, self.n_actions], state


class _ClassicalLSTM(nn.Module):
    """``LSTMCell`` + linear read-out with the quantum cores' ``initial_state``/``step`` interface."""

    def __init__(self, n_in: int, hidden: int, n_out: int):
        super().__init__()
        self.hidden_size = hidden
        self.cell = nn.LSTMCell(n_in, hidden)
        self.head = nn.Linear(hidden, n_out)

    def initial_state(self, batch: int, like: torch.Tensor):
        zeros = like.new_zeros(batch, self.hidden_size, dtype=torch.get_default_dtype())
        return zeros, zeros.clone()

    def step(self, x_t: torch.Tensor, state):
        h, c = self.cell(x_t, state)
        return self.head(h), (h, c)
