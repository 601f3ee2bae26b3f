"""A recurrent actor-critic whose core is a quantum sequence model (QFWP or QLSTM).

Observations go through an optional classical encoder (``Linear + tanh`` down to ``n_inputs``
values, needed for MiniGrid's 147-value view), then one step of the core per environment step,
carrying its state (QFWP's fast weights, QLSTM's ``(h, c)``) through the episode. The core's
output has ``n_actions + 1`` values: policy logits and the state value. ``core="lstm"`` is the
classical baseline (a torch ``LSTMCell`` of the same hidden size) that separates what the A2C
trainer can do from what the quantum core adds. ``normalize_obs`` standardises each observation
value by running statistics first: the quantum cores encode raw values as rotation angles, and
CartPole's are ~0.05 at the start of an episode, too small an angle for the policy to depend on.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from circuits.errors import ConfigurationError, UnknownNameError
from qml.registry import Preset, register_model
from qml.sequence.presets import RL_PRESET

#: ``factory(n_in, n_out) -> core``: a module with ``initial_state(batch, like)`` and ``step(x_t, state)``
CoreFactory = Callable[[int, int], nn.Module]


def registered_core(name: str, *, engine: str = "torch", **options) -> CoreFactory:
    """The factory of a registered model that solves the ``rl`` task, with its ``rl`` preset's
    options under ``options`` (e.g. QLSTM's hidden size 4)."""
    from qml import registry

    try:
        spec = registry.get(name)
    except UnknownNameError:
        spec = None
    if spec is None or "rl" not in spec.tasks:
        cores = [s.name for s in registry.specs() if "rl" in s.tasks]
        raise ConfigurationError(
            f"core must be a factory or one of the registered rl models {', '.join(cores)}; got {name!r}"
        )
    merged = {**spec.preset("", "rl").options, **options}

    def factory(n_in: int, n_out: int) -> nn.Module:
        return spec.build({"input_size": n_in, "output_size": n_out}, engine=engine, **merged)

    return factory


class RunningNorm(nn.Module):
    """``(x - mean) / std`` per feature, clipped to +-5, with mean and variance over every
    observation seen in training mode (frozen in eval mode); the statistics are buffers, so they
    are saved and restored with the weights."""

    def __init__(self, size: int, clip: float = 5.0):
        super().__init__()
        self.clip = clip
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("mean", torch.zeros(size, dtype=torch.float64))
        self.register_buffer("m2", torch.zeros(size, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            with torch.no_grad():  # Chan et al.'s parallel update of mean and sum of squares
                batch = x.detach().to(torch.float64).reshape(-1, x.shape[-1])
                n, mean = batch.shape[0], batch.mean(0)
                total = self.count + n
                delta = mean - self.mean
                self.m2 += ((batch - mean) ** 2).sum(0) + delta**2 * self.count * n / total
                self.mean += delta * n / total
                self.count.copy_(total)
        if self.count < 2:
            return x
        std = (self.m2 / (self.count - 1)).sqrt().clamp_min(1e-6)
        return ((x - self.mean.to(x.dtype)) / std.to(x.dtype)).clamp(-self.clip, self.clip)


class RecurrentActorCritic(nn.Module):
    """Encoder, recurrent core, policy logits and value. ``core`` is a factory
    ``(n_in, n_out) -> module`` or the name of a registered rl model (then ``engine`` and
    ``core_options`` go to it)."""

    def __init__(
        self,
        core: CoreFactory | str,
        obs_dim: int,
        n_actions: int,
        *,
        n_inputs: int | None = None,
        normalize_obs: bool = False,
        engine: str = "torch",
        **core_options,
    ):
        super().__init__()
        n_in = n_inputs or (obs_dim if obs_dim <= 4 else 4)
        layers = [RunningNorm(obs_dim)] if normalize_obs else []
        if n_in != obs_dim:
            layers += [nn.Linear(obs_dim, n_in), nn.Tanh()]
        self.encoder = nn.Sequential(*layers) if layers else nn.Identity()
        self.n_actions = n_actions
        if isinstance(core, str):
            core = registered_core(core, engine=engine, **core_options)
        elif core_options:
            raise ConfigurationError(f"options {sorted(core_options)} go to the core factory, not the agent")
        self.core = core(n_in, n_actions + 1)

    def initial_state(self, like: torch.Tensor):
        return self.core.initial_state(1, like)

    def step(self, obs: torch.Tensor, state):
        """``obs`` ``(obs_dim,)`` -> ``(logits (n_actions,), value (), state)``."""
        out, state = self.core.step(self.encoder(obs.unsqueeze(0)), state)
        return out[0, : self.n_actions], out[0, self.n_actions], state


@register_model(
    "lstm",
    tasks=("rl",),
    description="classical baseline of the RL cores: a torch LSTMCell + linear read-out",
    quantum=False,
    # the quantum cores' A2C setting (learning rate, clip), so that it is their reference
    presets={"rl": Preset({"hidden_size": 4}, RL_PRESET.train)},
)
class ClassicalLSTM(nn.Module):
    """``LSTMCell`` + linear read-out with the quantum cores' ``initial_state``/``step`` interface."""

    def __init__(self, input_size: int, hidden_size: int = 4, output_size: int = 1):
        super().__init__()
        self.hidden_size = hidden_size
        self.cell = nn.LSTMCell(input_size, hidden_size)
        self.head = nn.Linear(hidden_size, output_size)

    def initial_state(self, batch: int, like: torch.Tensor):
        zeros = like.new_zeros(batch, self.hidden_size, dtype=torch.get_default_dtype())
        return zeros, zeros.clone()

    def step(self, x_t: torch.Tensor, state):
        h, c = self.cell(x_t, state)
        return self.head(h), (h, c)
