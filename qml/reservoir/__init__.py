"""Onion quantum reservoir computing (Tandon et al., arXiv 2505.22837): mid-circuit-measured
quantum reservoirs with an exact per-step channel (:mod:`.channel`) and a dynamic circuit for
Aer/IBM (:mod:`.circuit`), the onion of several reservoirs (:mod:`.onion`), classical reservoirs
and baselines (:mod:`.classical`, reservoirpy), a validated ridge readout, memory capacity, and
the ``reservoir-forecast`` task with the registered models onion-qrc, qrc, esn, onion-esn."""

from . import models as _models  # noqa: F401  (registers the models)
from . import task as _task  # noqa: F401  (registers the task)
from .channel import Channel, feature_labels
from .classical import ClassicalReservoir, onion_matrix
from .forecast import FeatureMap, Series, fit_forecast, load_series, make_series
from .memory import memory_capacity
from .onion import OnionQRC, default_angles, plot_spectra, spectra
from .readout import fit_ridge, nrmse, rmse
from .reservoir import QuantumReservoir

__all__ = [
    "Channel",
    "ClassicalReservoir",
    "FeatureMap",
    "OnionQRC",
    "QuantumReservoir",
    "Series",
    "default_angles",
    "feature_labels",
    "fit_forecast",
    "fit_ridge",
    "load_series",
    "make_series",
    "memory_capacity",
    "nrmse",
    "onion_matrix",
    "plot_spectra",
    "rmse",
    "spectra",
]
