"""Engine registry: ``get(name, **options)`` builds an engine, ``available()`` says which run here,
``capabilities()`` what each can do (declared here, beside each entry, without importing it)."""

from __future__ import annotations

import importlib

from ..errors import ConfigurationError, EngineUnavailableError, UnknownNameError
from .base import Capabilities, Engine


class UnknownEngineError(UnknownNameError, EngineUnavailableError):
    """No engine is registered under the name (a ``KeyError`` and an ``EngineUnavailableError``)."""


# name -> ("module:Class", what it can do); engines added by later work register here.
_REGISTRY: dict[str, tuple[str, Capabilities]] = {
    "torch": (
        "circuits.engines.torch_engine:TorchEngine",
        Capabilities(statevector=True, mid_circuit=True, exact=True, gradient="backprop+adjoint"),
    ),
    "aer": (
        "circuits.engines.aer_engine:AerEngine",
        Capabilities(statevector=True, mid_circuit=True, exact=True, gradient="parameter-shift"),
    ),
    "pennylane": (
        "circuits.engines.pennylane_engine:PennyLaneEngine",
        Capabilities(statevector=True, mid_circuit=False, exact=True, gradient="pennylane"),
    ),
    "cudaq": (
        "circuits.engines.cudaq_engine:CudaqEngine",
        Capabilities(statevector=True, mid_circuit=False, exact=True, gradient="parameter-shift"),
    ),
    # shot-based primitives: estimates, counts, no state vector; SamplerV2 runs dynamic circuits,
    # EstimatorV2 does not
    "ibm": (
        "circuits.engines.ibm_engine:IBMEngine",
        Capabilities(
            statevector=False,
            mid_circuit=False,
            exact=False,
            gradient="parameter-shift",
            mid_circuit_sample=True,
        ),
    ),
}


def register(name: str, target: str, capabilities: Capabilities) -> None:
    """Register an engine class given as ``"module:Class"`` under ``name``, with what it can do."""
    if not isinstance(capabilities, Capabilities):
        raise TypeError(f"capabilities must be a Capabilities, not {type(capabilities).__name__}")
    _REGISTRY[name] = (target, capabilities)


def capabilities() -> dict[str, Capabilities]:
    """Map every registered engine name (in registration order, torch first) to its declared
    :class:`Capabilities`; imports no engine."""
    return {name: caps for name, (_, caps) in _REGISTRY.items()}


def capabilities_of(engine: str | Engine) -> Capabilities | None:
    """The capabilities of an engine (by name or object); None for an engine not in the registry."""
    name = engine.name if isinstance(engine, Engine) else engine
    entry = _REGISTRY.get(name)
    return entry[1] if entry is not None else None


def _load(name: str) -> type[Engine]:
    if name not in _REGISTRY:
        raise UnknownEngineError(
            f"unknown engine {name!r}; known engines: {', '.join(sorted(_REGISTRY))} (or 'auto')"
        )
    module, cls = _REGISTRY[name][0].split(":")
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
    try:
        return cls(**options)
    except TypeError as exc:  # an option the constructor does not take: name it and the options it does
        import inspect
        import re

        bad = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
        if bad is None or bad.group(1) not in options:
            raise
        known = ", ".join(k for k in inspect.signature(cls.__init__).parameters if k != "self") or "none"
        raise ConfigurationError(
            f"engine {name!r} takes no option {bad.group(1)!r}; its options: {known}"
        ) from None


__all__ = [
    "Capabilities",
    "Engine",
    "UnknownEngineError",
    "available",
    "capabilities",
    "capabilities_of",
    "get",
    "gpu_available",
    "register",
]
