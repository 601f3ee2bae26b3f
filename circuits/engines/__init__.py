"""Engine registry: ``get(name, **options)`` builds an engine, ``available()`` says which run here."""

from __future__ import annotations

import importlib

from ..errors import EngineUnavailableError
from .base import Engine

# name -> "module:Class"; engines added by later work register here.
_REGISTRY: dict[str, str] = {
    "torch": "circuits.engines.torch_engine:TorchEngine",
    "aer": "circuits.engines.aer_engine:AerEngine",
    "pennylane": "circuits.engines.pennylane_engine:PennyLaneEngine",
    "cudaq": "circuits.engines.cudaq_engine:CudaqEngine",
    "ibm": "circuits.engines.ibm_engine:IBMEngine",
}


def register(name: str, target: str) -> None:
    """Register an engine class given as ``"module:Class"`` under ``name``."""
    _REGISTRY[name] = target


def _load(name: str) -> type[Engine]:
    if name not in _REGISTRY:
        raise EngineUnavailableError(
            f"unknown engine {name!r}; known engines: {', '.join(sorted(_REGISTRY))} (or 'auto')"
        )
    module, cls = _REGISTRY[name].split(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as exc:
        raise EngineUnavailableError(
            f"engine {name!r} needs a package that is not installed: {exc}"
        ) from None


def available() -> dict[str, str]:
    """Map every known engine name to ``"ok"`` or the reason it cannot run here."""
    out: dict[str, str] = {}
    for name in sorted(_REGISTRY):
        try:
            out[name] = _load(name).availability()
        except EngineUnavailableError as exc:
            out[name] = str(exc)
    return out


def gpu_available() -> dict[str, dict[str, str]]:
    """For every engine that runs here, its GPU options and whether each works on this machine."""
    out: dict[str, dict[str, str]] = {}
    for name in sorted(_REGISTRY):
        try:
            cls = _load(name)
        except EngineUnavailableError:
            continue
        if cls.availability() == "ok" and cls.gpu_options:
            out[name] = cls.gpu_status()
    return out


def get(name: str = "torch", **options) -> Engine:
    """Build the engine ``name`` with ``options``; ``"auto"`` is torch on the GPU when present."""
    if name == "auto":
        import torch

        name = "torch"
        options.setdefault("device", "cuda" if torch.cuda.is_available() else "cpu")
    cls = _load(name)
    reason = cls.availability()
    if reason != "ok":
        raise EngineUnavailableError(f"engine {name!r} is not available: {reason}")
    return cls(**options)


__all__ = ["Engine", "available", "get", "gpu_available", "register"]
