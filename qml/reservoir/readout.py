"""Ridge readout with the regulariser chosen on validation data.

The closed form is reservoirpy's ``Ridge`` (centred features, unpenalised bias:
``W = (X_c^T X_c + alpha I)^-1 X_c^T Y_c``), solved for every candidate ``alpha`` at once
through one eigendecomposition of ``X_c^T X_c``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from circuits.errors import DataError

__all__ = ["ALPHAS", "Ridge", "fit_ridge", "nrmse", "rmse"]

#: the regularisers tried by default
ALPHAS = tuple(10.0**p for p in range(-10, 3))


def rmse(pred, target) -> float:
    p, t = np.asarray(pred, float).reshape(-1), np.asarray(target, float).reshape(-1)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def nrmse(pred, target) -> float:
    """RMSE divided by the standard deviation of ``target`` (not its variance, as reservoirpy's
    ``nrmse(norm='var')`` does)."""
    t = np.asarray(target, float).reshape(-1)
    return rmse(pred, t) / float(np.std(t))


@dataclass
class Ridge:
    """A fitted readout: ``predict(X) = X @ W + b``; ``alpha`` the chosen regulariser."""

    W: np.ndarray
    b: np.ndarray
    alpha: float
    val_rmse: float = float("nan")

    def predict(self, X) -> np.ndarray:
        return np.asarray(X, float) @ self.W + self.b


def _check(X, Y) -> tuple[np.ndarray, np.ndarray]:
    X, Y = np.asarray(X, float), np.asarray(Y, float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim != 2 or len(X) != len(Y):
        raise DataError(f"ridge needs X (N, F) and Y (N, outputs) with the same N; got {X.shape}, {Y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise DataError("ridge inputs hold NaN or infinite values")
    return X, Y


def _solutions(X, Y, alphas):
    xm, ym = X.mean(0), Y.mean(0)
    Xc, Yc = X - xm, Y - ym
    vals, vecs = np.linalg.eigh(Xc.T @ Xc)
    proj = vecs.T @ (Xc.T @ Yc)
    for a in alphas:
        W = vecs @ (proj / (vals + a)[:, None])
        yield a, W, ym - xm @ W


def fit_ridge(X, Y, X_val=None, Y_val=None, alphas: Sequence[float] = ALPHAS) -> Ridge:
    """The ridge readout of ``Y`` on ``X``; with validation data, the ``alpha`` of ``alphas`` with
    the lowest validation RMSE (refitted on train + validation), else ``alphas[0]``."""
    X, Y = _check(X, Y)
    if X_val is None or len(alphas) == 1:
        a, W, b = next(_solutions(X, Y, alphas[:1]))
        return Ridge(W, b, a)
    Xv, Yv = _check(X_val, Y_val)
    best = min(
        ((float(np.sqrt(np.mean((Xv @ W + b - Yv) ** 2))), a) for a, W, b in _solutions(X, Y, alphas)),
        key=lambda t: t[0],
    )
    _, W, b = next(_solutions(np.vstack([X, Xv]), np.vstack([Y, Yv]), [best[1]]))
    return Ridge(W, b, best[1], best[0])
