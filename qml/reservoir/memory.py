"""Memory capacity (Jaeger 2001) of any reservoir, with reservoirpy's protocol.

``MC = sum_{k=1}^{k_max} corr^2(u(t-k), y_k(t))`` where ``y_k`` is a ridge readout trained to
recall ``u(t-k)``; ``u`` i.i.d. uniform in [-0.8, 0.8] of length ``10 k_max``, the last 20 % for
testing, ``k_max`` warm-up steps dropped from training: the same series, split and readout as
``reservoirpy.observables.memory_capacity`` (whose docstring gives 18.78 for
``Reservoir(100, sr=1, seed=1) >> Ridge(1e-4)`` at ``k_max=50``, ``seed=1``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .readout import fit_ridge

__all__ = ["memory_capacity", "memory_series"]


def memory_series(k_max: int, seed: int | None = None) -> np.ndarray:
    """reservoirpy's default memory-capacity input: ``(10 k_max, 1)`` uniform in [-0.8, 0.8]."""
    from reservoirpy.utils.random import rand_generator

    return rand_generator(seed).uniform(low=-0.8, high=0.8, size=(10 * k_max, 1))


def memory_capacity(
    states: Callable[[np.ndarray], np.ndarray],
    k_max: int,
    *,
    ridge: float = 1e-4,
    series: np.ndarray | None = None,
    test_size: float = 0.2,
    seed: int | None = None,
    as_list: bool = False,
):
    """Memory capacity of the reservoir whose feature map is ``states(u) -> (T, F)`` (``u`` of
    shape ``(T, 1)`` in [-0.8, 0.8]; a quantum reservoir rescales it to [0, 1] itself)."""
    u = memory_series(k_max, seed) if series is None else np.asarray(series, float).reshape(-1, 1)
    windows = sliding_window_view(u[:, 0], k_max + 1)[:, ::-1]
    test_len = round(len(u) * test_size) if isinstance(test_size, float) else int(test_size)
    # reservoirpy runs the model on the windows' first column, i.e. u[k_max:], train then test
    S = np.asarray(states(windows[:, :1]), float)
    Xtr, Xte = S[:-test_len][k_max:], S[-test_len:]
    Ytr, Yte = windows[:-test_len, 1:][k_max:], windows[-test_len:, 1:]
    model = fit_ridge(Xtr, Ytr, alphas=[ridge])
    pred = model.predict(Xte)
    caps = np.array([np.corrcoef(pred[:, j], Yte[:, j])[0, 1] ** 2 for j in range(k_max)])
    return caps if as_list else float(caps.sum())
