"""The gradient-inversion attacks on tiny circuits: both regimes, the feature picture, DLG."""

from __future__ import annotations

import math

import torch

from qml.federated.attacks import (
    Target,
    count_minima,
    feature_attack,
    gradient_matching,
    numerical_attack,
    periodic_error,
    recover_features,
)
from qml.federated.dlg import MLPTarget, dlg_attack


def test_periodic_error_and_minima_count_respect_the_period():
    x = torch.tensor([[0.1], [0.1 + 2 * math.pi], [0.1 - 4 * math.pi], [1.0]], dtype=torch.float64)
    assert periodic_error(x, torch.tensor([0.1], dtype=torch.float64)).abs()[:3].max() < 1e-12
    assert count_minima(x) == 2


def test_gradients_match_finite_differences():
    t = Target(2, "repeated", 2, 2, seed=3)
    eps = 1e-6
    g = t.gradients(t.x_star[None])[0]
    k = 5
    w = t.theta.clone()
    w[k] += eps
    fp = t.layer(t.x_star[None], w)[0, 0]
    w[k] -= 2 * eps
    fm = t.layer(t.x_star[None], w)[0, 0]
    numeric = (((fp - t.y) ** 2) - ((fm - t.y) ** 2)) / (2 * eps)
    assert abs(float(numeric) - float(g[k])) < 1e-7


def test_shallow_angle_encoding_is_inverted():
    t = Target(2, "angle", 1, 4, seed=1)
    res = gradient_matching(t, starts=8, steps=150)
    assert res.mse < 1e-6 and res.success_rate > 0


def test_expressive_encoding_resists_the_same_budget():
    t = Target(2, "exponential", 3, 4, seed=1)
    res = gradient_matching(t, starts=8, steps=150)
    assert res.mse > 1e-2 and res.success_rate == 0
    assert res.distinct_minima >= 6  # spurious minima everywhere


def test_feature_snapshot_is_the_projected_feature_vector():
    t = Target(2, "repeated", 2, 4, seed=2)
    psi, info = recover_features(t)
    # one Pauli observable: the gradient sees the 8-dimensional adjoint orbit of Z (x) I, not all 15
    assert info["jacobian_rank"] == 8 and info["n_features"] == 15
    assert info["snapshot_cosine"] > 1 - 1e-9
    res, _ = feature_attack(Target(1, "angle", 1, 2, seed=0), starts=6, steps=100)
    assert res.mse < 1e-6


def test_numerical_attack_inverts_the_shallow_case():
    res = numerical_attack(Target(1, "angle", 1, 2, seed=0), starts=4, steps=60)
    assert res.mse < 1e-6


def test_classical_dlg_recovers_the_input():
    res = dlg_attack(MLPTarget(4, 8, seed=0), starts=3, steps=100)
    assert res.mse < 1e-8 and res.success_rate > 0
