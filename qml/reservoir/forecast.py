"""Forecasting with a fixed reservoir and a ridge readout: the series prepared for it, the feature
maps of every compared model, and the fit (features over the whole series in time order, ridge on
the training part after a wash-out, the regulariser chosen on the validation part, errors on the
test part). Shared by the ``reservoir-forecast`` task and ``benchmarks/repro_reservoir.py``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import torch

import data
from circuits.errors import ConfigurationError, DataError

from .classical import ClassicalReservoir, ar_features
from .onion import OnionQRC
from .readout import fit_ridge, nrmse, rmse
from .reservoir import QuantumReservoir, as_batch

__all__ = [
    "FeatureMap",
    "Series",
    "corrosion_inputs",
    "fit_best",
    "fit_forecast",
    "load_series",
    "make_series",
]


@dataclass
class Series:
    """Inputs ``u`` ``(T, n_in)`` scaled to [0, 1] with the training part's min and max, the
    target ``y`` ``(T,)`` (``y[t]`` is the value ``horizon`` steps after input ``t``),
    ``current`` the target series at input time ``t`` (what persistence predicts), and the
    split points: wash-out, train end, validation end."""

    u: np.ndarray
    y: np.ndarray
    current: np.ndarray
    washout: int
    train_end: int
    val_end: int
    horizon: int
    name: str = ""
    increment: bool = False


def make_series(
    inputs,
    target,
    horizon: int = 1,
    *,
    washout: int = 100,
    fractions=(0.6, 0.2),
    name="",
    increment: bool = False,
) -> Series:
    """A :class:`Series` from raw ``inputs`` ``(T, n_in)`` and the series to forecast ``target``
    ``(T,)``: ``y[t] = target[t + horizon]``; the last ``horizon`` inputs are dropped. With
    ``increment`` the readouts learn ``y[t] - target[t]`` (a growing cumulative series such as
    corrosion loss leaves its training range; its increments do not). One clear
    :class:`DataError` for NaN, a wrong shape, or a horizon that leaves too little to learn from."""
    x = as_batch(inputs)[0].numpy()
    tgt = np.asarray(target, float)
    if tgt.ndim != 1 or len(tgt) != len(x):
        raise DataError(f"target must be (T,) with T = {len(x)} like the inputs; got {tgt.shape}")
    if not np.isfinite(tgt).all():
        raise DataError("the target series has NaN or infinite values")
    if horizon < 1:
        raise ConfigurationError(f"horizon must be >= 1; got {horizon}")
    T = len(x) - horizon
    if T < washout + 30:
        raise DataError(
            f"horizon {horizon} on a series of {len(x)} steps leaves {T} (need wash-out {washout} + 30)"
        )
    x, y, current = x[:T], tgt[horizon:], tgt[:T]
    train_end = washout + int(fractions[0] * (T - washout))
    val_end = train_end + int(fractions[1] * (T - washout))
    lo, hi = x[:train_end].min(0), x[:train_end].max(0)
    u = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
    return Series(u, y, current, washout, train_end, val_end, horizon, name, increment)


def load_series(
    dataset: str,
    *,
    horizon: int = 1,
    seed: int = 0,
    n_points: int = 2000,
    site: str = "coastal",
    washout: int = 100,
    data_root: str | None = None,
) -> Series:
    """A catalogued series prepared for forecasting: NARMA (input ``u`` -> output ``y``), other
    single series (the series -> itself ``horizon`` ahead), corrosion (``site``'s weather and
    observed loss -> the loss ``horizon`` steps ahead)."""
    loader = data.get(dataset).loader
    params = inspect.signature(loader).parameters
    kwargs = {
        k: v
        for k, v in {"seed": seed, "n_points": n_points, "site": site, "root": data_root}.items()
        if k in params and (k != "root" or v is not None)
    }
    out = loader(**kwargs)
    if isinstance(out, tuple):
        inputs, target = out  # NARMA (u, y): y[t+1] depends on u[t]; corrosion (weather, loss)
    else:
        inputs, target = out, out
    if dataset == "corrosion":
        inputs = corrosion_inputs(inputs)
    name = f"{dataset}:{site}" if dataset == "corrosion" else dataset
    return make_series(
        inputs,
        torch.as_tensor(target).reshape(-1),
        horizon,
        washout=washout,
        name=name,
        increment=dataset == "corrosion",
    )


def corrosion_inputs(inputs) -> np.ndarray:
    """The corrosion generator's inputs with the observed loss (last column) replaced by its
    change over the last step: every input then stays in its training range."""
    x = np.asarray(inputs, float).copy()
    x[:, -1] = np.diff(x[:, -1], prepend=x[0, -1])
    return x


class FeatureMap:
    """The features of one compared model on a :class:`Series`' inputs: ``kind`` one of
    ``onion-qrc``, ``qrc``, ``esn``, ``onion-esn``, ``linear-ar``, ``persistence``; the readout
    also sees the current inputs (``skip``); ``classical_layer`` feeds the QRC features into a
    reservoirpy leaky reservoir of ``layer_units`` whose states are added."""

    KINDS = ("onion-qrc", "qrc", "esn", "onion-esn", "linear-ar", "persistence")

    def __init__(
        self,
        kind: str,
        n_inputs: int = 1,
        *,
        reservoirs: int = 3,
        qubits: int = 4,
        measurements: int = 1,
        angle: float = 0.5,
        angles=None,
        shots: int | None = None,
        classical_layer: bool = False,
        layer_units: int = 100,
        units: int = 100,
        sr: float = 0.9,
        lr: float = 1.0,
        input_scaling: float = 1.0,
        onion_blocks: int = 4,
        lags: int = 10,
        paulis: str = "Z",
        data_qubits: int = 1,
        entangler: str = "ising",
        layers: int = 3,
        skip: bool = True,
        seed: int = 0,
    ):
        if kind not in self.KINDS:
            raise ConfigurationError(f"unknown reservoir model {kind!r}; known: {', '.join(self.KINDS)}")
        self.kind, self.n_inputs, self.shots, self.skip = kind, n_inputs, shots, skip
        self.seed, self.lags = seed, lags
        q = {
            "measurements": measurements,
            "n_inputs": n_inputs,
            "paulis": paulis,
            "data_qubits": data_qubits,
            "entangler": entangler,
            "layers": layers,
        }
        self.quantum = None
        if kind == "onion-qrc":
            self.quantum = OnionQRC(reservoirs, qubits, angles=angles, seed=seed, **q)
        elif kind == "qrc":
            self.quantum = QuantumReservoir(qubits, angle, seed=seed, **q)
        self.classical = None
        if kind in ("esn", "onion-esn"):
            self.classical = ClassicalReservoir(
                units,
                sr=sr,
                lr=lr,
                input_scaling=input_scaling,
                onion=onion_blocks if kind == "onion-esn" else 0,
                seed=seed,
            )
        self.layer = (
            ClassicalReservoir(layer_units, sr=0.9, lr=0.5, input_scaling=0.5, seed=seed + 1)
            if classical_layer and self.quantum is not None
            else None
        )

    def __call__(self, u: np.ndarray) -> np.ndarray:
        """``(T, F)`` features of the inputs ``u`` ``(T, n_in)`` in [0, 1]."""
        parts = []
        if self.quantum is not None:
            f = self.quantum.features(u, shots=self.shots, seed=self.seed).numpy()
            parts.append(f)
            if self.layer is not None:
                parts.append(self.layer.states(f))
        if self.classical is not None:
            parts.append(self.classical.states(2 * u - 1))
        if self.kind == "linear-ar":
            parts.append(ar_features(u, self.lags))
        if self.skip or not parts:
            parts.append(u)
        return np.concatenate(parts, axis=1)


def fit_forecast(features, series: Series, alphas=None) -> dict:
    """Ridge readout of ``series.y`` on ``features(series.u)`` (train: wash-out to train end;
    regulariser from the validation part); returns the readout, test predictions and errors
    (``nrmse``: RMSE / std of the test target). Persistence (``y[t + h] = y[t]``) needs no fit."""
    w, a, b = series.washout, series.train_end, series.val_end
    truth = series.y[b:]
    if isinstance(features, FeatureMap) and features.kind == "persistence":
        pred = series.current[b:]
        return {
            "readout": None,
            "pred": pred,
            "truth": truth,
            "rmse": rmse(pred, truth),
            "nrmse": nrmse(pred, truth),
            "alpha": None,
            "n_features": 0,
        }
    S = np.asarray(features(series.u), float)
    kwargs = {} if alphas is None else {"alphas": alphas}
    base = series.current if series.increment else np.zeros_like(series.y)
    target = series.y - base
    ridge = fit_ridge(S[w:a], target[w:a], S[a:b], target[a:b], **kwargs)
    pred = ridge.predict(S[b:])[:, 0] + base[b:]
    return {
        "readout": ridge,
        "pred": pred,
        "truth": truth,
        "rmse": rmse(pred, truth),
        "nrmse": nrmse(pred, truth),
        "alpha": ridge.alpha,
        "n_features": S.shape[1],
    }


def fit_best(candidates: dict, series: Series) -> tuple[str, dict]:
    """Fit every candidate feature map (``name -> FeatureMap``) and keep the one with the lowest
    validation RMSE (hyperparameters chosen like the regulariser: never on the test part)."""
    fits = {name: fit_forecast(fm, series) for name, fm in candidates.items()}
    best = min(fits, key=lambda name: fits[name]["readout"].val_rmse)
    return best, fits[best]
