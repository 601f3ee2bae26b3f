"""Time series generators: NARMA against an independent loop, J2 values, the pendulum's ODE,
windows and the time-ordered split."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from data import sequences as seq


def test_narma_follows_its_recurrence():
    for order in (5, 10):
        u, y = seq.narma(order, n_points=120, seed=4, warmup=0)
        u, y = u.numpy(), y.numpy()
        for t in range(order + 2, 119):
            expected = (
                0.3 * y[t]
                + 0.05 * y[t] * sum(y[t - i] for i in range(order))
                + 1.5 * u[t - order + 1] * u[t]
                + 0.1
            )
            assert y[t + 1] == pytest.approx(expected, abs=1e-12)
        assert 0 <= u.min() and u.max() <= 0.5 and np.isfinite(y).all() and y.max() < 1.5
    assert torch.equal(seq.narma(5, seed=1)[1], seq.narma(5, seed=1)[1])
    assert not torch.equal(seq.narma(5, seed=1)[1], seq.narma(5, seed=2)[1])


def test_bessel_j2_values():
    j = seq.bessel_j2(n_points=201, x_max=20.0)
    assert j[0] == 0.0
    assert j[10].item() == pytest.approx(0.1149034849319005, abs=1e-12)  # J2(1)
    assert j[50].item() == pytest.approx(0.04656511627775222, abs=1e-12)  # J2(5)


def test_damped_pendulum_obeys_its_equation_and_decays():
    n, t_max = 2400, 20.0
    omega = seq.damped_shm(n_points=n, t_max=t_max).numpy()
    assert omega.min() == pytest.approx(-1.0) and omega.max() == pytest.approx(1.0)
    first, last = np.abs(omega[: n // 4]).max(), np.abs(omega[-n // 4 :]).max()
    assert last < 0.8 * first  # damping
    # undo the scaling with the raw solution's extremes, then check theta'' = -0.15 theta' - 9.81 sin theta
    from scipy.integrate import odeint

    t = np.linspace(0, t_max, n)
    raw = odeint(lambda y, _t: [y[1], -0.15 * y[1] - 9.81 * math.sin(y[0])], [0.0, 3.0], t)
    lo, hi = raw[:, 1].min(), raw[:, 1].max()
    w = (omega + 1) / 2 * (hi - lo) + lo
    theta = np.concatenate([[0.0], np.cumsum((w[1:] + w[:-1]) / 2 * np.diff(t))])
    dw = np.gradient(w, t)
    residual = dw + 0.15 * w + 9.81 * np.sin(theta)
    assert np.abs(residual[5:-5]).max() < 0.05


def test_windows_and_time_split():
    s = torch.arange(10, dtype=torch.float64)
    x, y = seq.window(s, 3)
    assert x.shape == (7, 3, 1) and y.shape == (7, 1)
    assert torch.equal(x[1, :, 0], x[0, :, 0] + 1) and y[0].item() == 3.0
    x2, y2 = seq.window(s, 3, horizon=2, target=s * 10)
    assert y2[0].item() == 40.0 and len(x2) == 6
    (a, b), (c, d) = seq.time_split(x, y, 0.67)
    assert len(a) == 4 and len(c) == 3 and a[-1, -1, 0] < c[0, -1, 0]
    with pytest.raises(ValueError, match="windows"):
        seq.window(s, 20)
    with pytest.raises(ValueError, match="train_fraction"):
        seq.time_split(x, y, 1.5)
    with pytest.raises(ValueError, match="order"):
        seq.narma(1)


def test_delayed_control_starts_after_the_delay():
    p = seq.delayed_quantum_control(n_points=200, t_max=20.0, delay=5.0)
    t = np.linspace(0, 20, 200)
    assert p[t < 5.0].abs().max() == 0 and p.max() > 0.1 and (p >= 0).all() and (p <= 1).all()
