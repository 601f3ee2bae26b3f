"""The reservoir models as registered models: a fixed feature map and a ridge readout fitted by
the ``reservoir-forecast`` task (no gradient loop). ``ketml train onion-qrc --dataset narma10-reservoirpy
--option reservoirs=4 ...``; the classical ``esn``/``onion-esn`` are the baselines."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch
from torch import nn

from circuits.errors import ConfigurationError
from qml.registry import register_model

from .forecast import FeatureMap
from .readout import Ridge

__all__ = ["ReservoirForecaster"]


class ReservoirForecaster(nn.Module):
    """``forward(u)``: ``(T, n_in)`` inputs in [0, 1] -> ``(T,)`` forecasts (of the change over the
    horizon, for an ``increment`` series such as corrosion), once :attr:`readout`
    is fitted. The fixed reservoir has no trainable parameters; the readout's weights are buffers."""

    def __init__(self, kind: str, n_inputs: int = 1, **options: Any):
        super().__init__()
        known = set(inspect.signature(FeatureMap).parameters) - {"kind", "n_inputs"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) {', '.join(unknown)} for {kind}; known: {', '.join(sorted(known))}"
            )
        self.kind, self.options = kind, dict(options)
        self.features = FeatureMap(kind, n_inputs, **options)
        self.register_buffer("W", torch.zeros(0, 1, dtype=torch.float64))
        self.register_buffer("b", torch.zeros(1, dtype=torch.float64))

    @property
    def readout(self) -> Ridge:
        return Ridge(self.W.numpy(), self.b.numpy(), float("nan"))

    @readout.setter
    def readout(self, ridge: Ridge) -> None:
        self.W = torch.as_tensor(np.asarray(ridge.W))
        self.b = torch.as_tensor(np.asarray(ridge.b).reshape(-1))

    def forward(self, u) -> torch.Tensor:
        S = self.features(np.asarray(u, float))
        return torch.as_tensor(self.readout.predict(S)[:, 0])


def _builder(kind: str):
    def build(dims: dict[str, Any], *, engine: str = "torch", **options: Any) -> nn.Module:
        return ReservoirForecaster(kind, dims.get("n_inputs", 1), **options)

    return build


_PRESETS = {"corrosion": {"data": {"horizon": 4}}}
#: ``ketml train qrc|onion-qrc`` flags (each sets the model option of the same name)
_QRC_FLAGS = {
    "qubits": (int, "Qubits per quantum reservoir (3-5 for the exact channel).", "qubits"),
    "measurements": (int, "Qubits measured and reset mid-circuit per step.", "measurements"),
    "shots": (int, "Shots per step (default: exact expectations).", "shots"),
    "classical-layer": (bool, "Add reservoirpy's leaky reservoir on top.", "classical_layer"),
}
_ONION_FLAGS = {"reservoirs": (int, "Reservoirs side by side (K).", "reservoirs"), **_QRC_FLAGS}
register_model(
    "onion-qrc",
    tasks=("reservoir-forecast",),
    build=_builder("onion-qrc"),
    twin="onion-esn",
    description="onion QRC: K mid-circuit-measured quantum reservoirs, spectra in different annuli "
    "(Tandon et al. 2025), ridge readout; options reservoirs, qubits, measurements, shots, classical_layer",
    defaults={"epochs": 1},
    presets=_PRESETS,
    cli_options=_ONION_FLAGS,
)
register_model(
    "qrc",
    tasks=("reservoir-forecast",),
    build=_builder("qrc"),
    twin="esn",
    description="one mid-circuit-measured quantum reservoir (exact channel or shots), ridge readout",
    defaults={"epochs": 1},
    presets=_PRESETS,
    cli_options=_QRC_FLAGS,
)
register_model(
    "esn",
    tasks=("reservoir-forecast",),
    build=_builder("esn"),
    quantum=False,
    description="reservoirpy echo state network (100 leaky tanh units), ridge readout",
    defaults={"epochs": 1},
    presets=_PRESETS,
)
register_model(
    "onion-esn",
    tasks=("reservoir-forecast",),
    build=_builder("onion-esn"),
    quantum=False,
    description="onion ESN (Tortorella & Micheli 2024): block-diagonal orthogonal reservoir, one "
    "spectral radius per block, ridge readout",
    defaults={"epochs": 1},
    presets=_PRESETS,
)
