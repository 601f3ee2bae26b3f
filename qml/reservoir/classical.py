"""Classical reservoirs (reservoirpy) and the simple baselines the quantum reservoirs are compared
with: a leaky echo state network, the onion ESN of Tortorella & Micheli (ICANN 2024: a
block-diagonal reservoir matrix whose blocks' eigenvalues lie in distinct annuli; the paper has no
public code, so the construction here, orthogonal blocks scaled to radii spread over
[``sr_min``, ``sr``], is the summary's "typical construction", inferred), persistence and linear
autoregression. The same reservoirpy ``Reservoir`` is the optional classical layer that the onion
QRC feeds its features into.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import ortho_group

from circuits.errors import ConfigurationError

__all__ = ["ClassicalReservoir", "ar_features", "onion_matrix", "persistence"]


def onion_matrix(block_sizes: Sequence[int], radii: Sequence[float], seed: int = 0) -> np.ndarray:
    """The onion ESN's reservoir matrix: block ``i`` a random orthogonal ``(n_i, n_i)`` matrix
    times ``radii[i]``, so its eigenvalues have modulus exactly ``radii[i]``."""
    if len(block_sizes) != len(radii):
        raise ConfigurationError(f"{len(block_sizes)} blocks need as many radii; got {len(radii)}")
    rng = np.random.default_rng(seed)
    blocks = []
    for n, r in zip(block_sizes, radii, strict=True):
        q = ortho_group.rvs(n, random_state=rng) if n > 1 else np.array([[1.0]])
        blocks.append(r * q)
    from scipy.linalg import block_diag

    return block_diag(*blocks)


class ClassicalReservoir:
    """A reservoirpy leaky ``Reservoir`` run over whole series: ``units``, spectral radius ``sr``,
    leak ``lr``, ``input_scaling``; or, with ``onion=K``, K equal blocks (:func:`onion_matrix`)
    with radii spread over [``sr_min``, ``sr``]. ``states(u)`` is ``(T, units)`` from a zero state."""

    def __init__(
        self,
        units: int = 100,
        *,
        sr: float = 0.9,
        lr: float = 1.0,
        input_scaling: float = 1.0,
        onion: int = 0,
        sr_min: float = 0.3,
        rc_connectivity: float = 0.1,
        input_connectivity: float = 0.1,
        seed: int = 0,
    ):
        from reservoirpy.nodes import Reservoir

        if units < 1:
            raise ConfigurationError(f"units must be positive; got {units}")
        self.units, self.sr, self.onion = units, sr, onion
        kwargs = dict(lr=lr, input_scaling=input_scaling, input_connectivity=input_connectivity, seed=seed)
        if onion:
            if units % onion:
                raise ConfigurationError(f"{units} units do not split into {onion} equal onion blocks")
            radii = np.linspace(sr_min, sr, onion)
            self.radii = radii.tolist()
            W = onion_matrix([units // onion] * onion, radii, seed)
            self.node = Reservoir(units, W=W, **kwargs)
        else:
            self.node = Reservoir(units, sr=sr, rc_connectivity=rc_connectivity, **kwargs)

    def states(self, u) -> np.ndarray:
        """``(T, units)`` states for the inputs ``u`` (``(T,)`` or ``(T, n_in)``), from zero."""
        u = np.asarray(u, float)
        u = u[:, None] if u.ndim == 1 else u
        import copy

        node = copy.deepcopy(self.node)  # a fresh zero state every call, same weights
        return np.asarray(node.run(u))


def persistence(y, horizon: int) -> np.ndarray:
    """The forecast ``y(t + h) = y(t)``."""
    return np.asarray(y, float)


def ar_features(u, lags: int) -> np.ndarray:
    """``(T, lags * n_in)``: the last ``lags`` inputs at every step (zeros before the start), for
    a linear autoregression through the same ridge readout."""
    u = np.asarray(u, float)
    u = u[:, None] if u.ndim == 1 else u
    T = len(u)
    out = np.zeros((T, lags, u.shape[1]))
    for k in range(lags):
        out[k:, k] = u[: T - k]
    return out.reshape(T, -1)
