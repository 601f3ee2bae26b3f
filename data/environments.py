"""The environments of the QFWP/QLSTM RL experiments, with flat float observations.

``cartpole`` is gymnasium's CartPole-v1 (solved: average return 195 over 100 episodes). The
MiniGrid tasks use the agent's 7x7x3 partial view, flattened and scaled to [0, 1], and only the
actions the task needs (3 for Empty: left, right, forward; 6 for DoorKey: + pick up, drop, toggle).
Each is a catalogue entry of kind "RL environment" whose loader is ``make_env(name)``; its spec
also carries how A2C should treat its returns (discount, standardising, value loss).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from circuits.errors import UnknownNameError

from .registry import Dataset, register


@dataclass(frozen=True)
class EnvSpec:
    gym_id: str
    n_actions: int
    solved_return: float
    max_steps: int
    #: discount: MiniGrid's reward already falls with episode length, but at 0.99 the returns of a
    #: 6-step and a 40-step success differ too little for A2C to learn the short path (measured:
    #: a classical LSTM agent stays at a biased-random 0.66 at 0.99 and solves Empty-5x5 at 0.9)
    gamma: float = 0.99
    #: CartPole's returns reach ~100 at 0.99: standardised per episode (and a Huber value loss)
    #: they stop swamping the policy gradient under the joint gradient clip (measured: a classical
    #: LSTM agent at avg ~47 after 800 episodes without, solved in 348 with). MiniGrid keeps raw
    #: returns: standardising would erase the difference between a short and a long success.
    normalize_returns: bool = False
    value_loss: str = "mse"


ENVIRONMENTS: dict[str, EnvSpec] = {
    "cartpole": EnvSpec("CartPole-v1", 2, 195.0, 500, normalize_returns=True, value_loss="huber"),
    "minigrid-empty-5x5": EnvSpec("MiniGrid-Empty-5x5-v0", 3, 0.9, 100, 0.9),
    "minigrid-empty-6x6": EnvSpec("MiniGrid-Empty-6x6-v0", 3, 0.9, 144, 0.9),
    "minigrid-doorkey-5x5": EnvSpec("MiniGrid-DoorKey-5x5-v0", 6, 0.9, 250, 0.9),
}


class FlatEnv:
    """A gymnasium environment whose observations are 1-D float32 arrays."""

    def __init__(self, name: str, seed: int = 0):
        if name not in ENVIRONMENTS:
            raise UnknownNameError(f"unknown environment {name!r}; known: {', '.join(ENVIRONMENTS)}")
        try:
            import gymnasium as gym

            if name.startswith("minigrid"):
                import minigrid  # noqa: F401  (registers the MiniGrid environments)
        except ImportError as exc:
            raise ImportError(
                f"the {name} environment needs gymnasium{' and minigrid' if 'minigrid' in name else ''}: "
                "pip install 'ketml[rl]'"
            ) from exc
        self.name = name
        self.spec = ENVIRONMENTS[name]
        self.env = gym.make(self.spec.gym_id)
        self.seed = seed
        self._first = True
        obs, _ = self.env.reset(seed=seed)
        self.obs_dim = self._flat(obs).shape[0]
        self.n_actions = self.spec.n_actions

    def _flat(self, obs) -> np.ndarray:
        if isinstance(obs, dict):  # MiniGrid: the 7x7x3 view (object, colour, state indices)
            return (np.asarray(obs["image"], dtype=np.float32) / 10.0).reshape(-1)
        return np.asarray(obs, dtype=np.float32).reshape(-1)

    def reset(self) -> np.ndarray:
        if self._first:
            self._first = False
            obs, _ = self.env.reset(seed=self.seed)
        else:
            obs, _ = self.env.reset()
        return self._flat(obs)

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        obs, reward, terminated, truncated, _ = self.env.step(int(action))
        return self._flat(obs), float(reward), bool(terminated or truncated)

    def close(self) -> None:
        self.env.close()


def make_env(name: str, seed: int = 0) -> FlatEnv:
    """An environment by ketml name (a key of ``ENVIRONMENTS``)."""
    return FlatEnv(name, seed)


_ABOUT = {
    "cartpole": (
        "balance a pole on a cart: 4 observations, 2 actions, solved at an average return of "
        "195 over 100 episodes",
        "gymnasium (Farama Foundation), Barto, Sutton & Anderson 1983",
    ),
    "minigrid-empty-5x5": (
        "reach the goal square of an empty 5x5 room: 7x7x3 partial view, 3 actions",
        "MiniGrid (Farama Foundation), Chevalier-Boisvert et al. 2023",
    ),
    "minigrid-empty-6x6": (
        "reach the goal square of an empty 6x6 room: 7x7x3 partial view, 3 actions",
        "MiniGrid (Farama Foundation), Chevalier-Boisvert et al. 2023",
    ),
    "minigrid-doorkey-5x5": (
        "pick up the key, open the door, reach the goal (5x5): 7x7x3 view, 6 actions",
        "MiniGrid (Farama Foundation), Chevalier-Boisvert et al. 2023",
    ),
}
for _name, _spec in ENVIRONMENTS.items():
    _minigrid = _name.startswith("minigrid")
    register(
        Dataset(
            _name,
            "RL environment",
            _ABOUT[_name][0],
            functools.partial(make_env, _name),
            requires=("gymnasium", "minigrid") if _minigrid else ("gymnasium",),
            source=f"{_spec.gym_id}: {_ABOUT[_name][1]}",
            licence="MIT (gymnasium" + (", minigrid)" if _minigrid else ")"),
            size=f"episodes of at most {_spec.max_steps} steps",
            how_to_get="pip install 'ketml[rl]' (gymnasium and minigrid); nothing to download",
        )
    )
