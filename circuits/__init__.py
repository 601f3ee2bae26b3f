"""ketml's circuit core: Qiskit circuits in, torch tensors out, on any engine.

The public names load on first use (PEP 562), so ``import circuits.errors`` (which every
``ketml`` command needs) does not import torch or qiskit.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the submodule that defines it (None: the name is the submodule itself)
_EXPORTS: dict[str, str | None] = {
    "engines": None,
    "qasm": None,
    "expval": "api",
    "sample": "api",
    "statevector": "api",
    "ParallelQuantumLayer": "layers",
    "QuantumLayer": "layers",
    "Postselect": "ops",
    "postselect": "ops",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'circuits' has no attribute {name!r}")
    module = importlib.import_module(f".{_EXPORTS[name] or name}", __name__)
    value = module if _EXPORTS[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
