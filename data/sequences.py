"""Time series for the sequence models (QLSTM / QFWP papers), generated offline and deterministic.

Every generator returns a float64 tensor (or a pair); :func:`window` turns a series into
(window, next value) pairs and :func:`time_split` splits them in time order.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from circuits.errors import ConfigurationError

from .registry import Dataset, register

__all__ = ["bessel_j2", "damped_shm", "delayed_quantum_control", "narma", "time_split", "window"]


def _check_points(n_points: int) -> None:
    if n_points < 8:
        raise ConfigurationError(f"n_points must be at least 8; got {n_points}")


def damped_shm(
    n_points: int = 240,
    t_max: float = 20.0,
    damping: float = 0.15,
    gravity: float = 9.81,
    theta0: tuple[float, float] = (0.0, 3.0),
) -> torch.Tensor:
    """The damped pendulum of the QFWP code (``data/damped_shm.py``): ``theta'' = -b theta' - g sin
    theta`` (m = l = 1) from ``theta(0), theta'(0) = 0, 3`` on ``linspace(0, 20, 240)``, integrated
    with ``scipy.integrate.odeint``; the angular velocity, min-max scaled to [-1, 1]."""
    _check_points(n_points)
    if damping < 0 or gravity <= 0 or t_max <= 0:
        raise ConfigurationError(
            f"need damping >= 0, gravity > 0, t_max > 0; got {damping}, {gravity}, {t_max}"
        )
    from scipy.integrate import odeint

    t = np.linspace(0.0, t_max, n_points)
    sol = odeint(lambda y, _t: [y[1], -damping * y[1] - gravity * math.sin(y[0])], list(theta0), t)
    omega = sol[:, 1]
    scaled = 2 * (omega - omega.min()) / (omega.max() - omega.min()) - 1
    return torch.as_tensor(scaled, dtype=torch.float64)


def bessel_j2(n_points: int = 240, x_max: float = 20.0) -> torch.Tensor:
    """``J_2(x)`` (``scipy.special.jv``) on ``linspace(0, x_max, n_points)`` (QLSTM's Bessel task)."""
    _check_points(n_points)
    if x_max <= 0:
        raise ConfigurationError(f"x_max must be > 0; got {x_max}")
    from scipy.special import jv

    return torch.as_tensor(jv(2, np.linspace(0.0, x_max, n_points)), dtype=torch.float64)


def narma(
    order: int = 5, n_points: int = 240, seed: int = 0, warmup: int = 100
) -> tuple[torch.Tensor, torch.Tensor]:
    """NARMA-``order`` (Atiya & Parlos 2000): ``y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i<order} y(t-i)
    + 1.5 u(t-order+1) u(t) + 0.1`` with ``u ~ U(0, 0.5)``; the first ``warmup`` steps are dropped.
    Returns ``(u, y)``."""
    _check_points(n_points)
    if order < 2:
        raise ConfigurationError(f"order must be >= 2; got {order}")
    rng = np.random.default_rng(seed)
    total = n_points + warmup + order
    u = rng.uniform(0.0, 0.5, total)
    y = np.zeros(total)
    for t in range(order - 1, total - 1):
        y[t + 1] = (
            0.3 * y[t] + 0.05 * y[t] * y[t - order + 1 : t + 1].sum() + 1.5 * u[t - order + 1] * u[t] + 0.1
        )
    cut = slice(total - n_points, total)
    return torch.as_tensor(u[cut], dtype=torch.float64), torch.as_tensor(y[cut], dtype=torch.float64)


def delayed_quantum_control(
    n_points: int = 240,
    t_max: float = 20.0,
    delay: float = 5.0,
    detuning: float = 0.5,
    rabi: float = 1.0,
    width: float = 3.0,
    seed: int = 0,
) -> torch.Tensor:
    """Excited-state population of a driven qubit, ``H(t) = detuning/2 Z + Omega(t - delay)/2 X`` with a
    Gaussian pulse ``Omega(s) = rabi exp(-s^2 / 2 width^2)`` switched on after ``delay``: a control
    signal whose effect shows up late. The QLSTM paper names a "delayed quantum control" task
    without giving its equation; this is our definition of it (``seed`` is unused: deterministic)."""
    _check_points(n_points)
    from scipy.linalg import expm

    t = np.linspace(0.0, t_max, n_points)
    dt = t[1] - t[0]
    z = np.array([[1, 0], [0, -1]], dtype=complex)
    x = np.array([[0, 1], [1, 0]], dtype=complex)
    psi = np.array([1, 0], dtype=complex)
    out = []
    for ti in t:
        out.append(abs(psi[1]) ** 2)
        omega = (
            rabi * math.exp(-((ti + dt / 2 - delay - 2 * width) ** 2) / (2 * width**2))
            if ti >= delay
            else 0.0
        )
        psi = expm(-1j * dt * (detuning / 2 * z + omega / 2 * x)) @ psi
    return torch.as_tensor(np.array(out), dtype=torch.float64)


def window(series, length: int = 4, horizon: int = 1, target=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Sliding windows ``X[i] = series[i : i + length]`` (shape ``(N, length, 1)``) and the value
    ``horizon`` steps after each window, ``y[i] = target[i + length + horizon - 1]`` (``(N, 1)``;
    ``target`` defaults to the series itself, e.g. NARMA's output for its input ``u``)."""
    s = torch.as_tensor(series, dtype=torch.float64).reshape(-1)
    tgt = s if target is None else torch.as_tensor(target, dtype=torch.float64).reshape(-1)
    if length < 1 or horizon < 1 or len(s) < length + horizon or len(tgt) != len(s):
        raise ConfigurationError(f"cannot cut windows of {length} (+{horizon}) from {len(s)} values")
    n = len(s) - length - horizon + 1
    x = torch.stack([s[i : i + length] for i in range(n)]).unsqueeze(-1)
    y = torch.stack([tgt[i + length + horizon - 1] for i in range(n)]).unsqueeze(-1)
    return x, y


def time_split(x: torch.Tensor, y: torch.Tensor, train_fraction: float = 0.67):
    """``((x_train, y_train), (x_test, y_test))``: the first ``train_fraction`` trains, in time order."""
    if not 0 < train_fraction < 1:
        raise ConfigurationError(f"train_fraction must be in (0, 1); got {train_fraction}")
    n = int(train_fraction * len(x))
    return (x[:n], y[:n]), (x[n:], y[n:])


_GENERATED = {
    "licence": "generated here (no data files)",
    "how_to_get": "generated on the fly, deterministic",
}
register(
    Dataset(
        "damped-shm",
        "time series",
        "angular velocity of a damped pendulum, 240 points scaled to [-1, 1] (QFWP's task)",
        damped_shm,
        source="Chen et al., quantum fast-weight programmers, arXiv:2402.17760",
        size="240 points",
        **_GENERATED,
    )
)
register(
    Dataset(
        "bessel-j2",
        "time series",
        "the Bessel function J_2(x) on [0, 20], 240 points (QLSTM's task)",
        bessel_j2,
        source="Chen, Yoo, Fang, quantum long short-term memory, arXiv:2009.01783",
        size="240 points",
        **_GENERATED,
    )
)
register(
    Dataset(
        "narma5",
        "time series",
        "NARMA-5 output driven by uniform noise, 240 points after 100 warm-up steps",
        functools.partial(narma, order=5),
        source="Atiya & Parlos, IEEE Trans. Neural Networks 11 (2000)",
        size="240 points",
        **_GENERATED,
    )
)
register(
    Dataset(
        "narma10",
        "time series",
        "NARMA-10 output driven by uniform noise, 240 points after 100 warm-up steps",
        functools.partial(narma, order=10),
        source="Atiya & Parlos, IEEE Trans. Neural Networks 11 (2000)",
        size="240 points",
        **_GENERATED,
    )
)
register(
    Dataset(
        "delayed-control",
        "time series",
        "excited-state population of a qubit under a delayed Gaussian pulse, 240 points (our "
        "definition of QLSTM's 'delayed quantum control')",
        delayed_quantum_control,
        source="Chen, Yoo, Fang, arXiv:2009.01783 (task named there; equation ours)",
        size="240 points",
        **_GENERATED,
    )
)
