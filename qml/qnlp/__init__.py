"""QNLP (de Felice's thesis; lambeq 0.5): sentences -> pregroup grammar diagrams -> circuits.

* :mod:`.pregroup`, :mod:`.lexicon`: a rule-based pregroup parser for the MC and RP vocabularies.
* :mod:`.readers`: it, lambeq's syntax-free readers and a local Bobcat model; :mod:`.discocirc`:
  a rule-based DisCoCirc reading of short texts.
* :mod:`.ansatz`: the functor settings (rewriters, lambeq's IQP / Sim14 / Sim15 / SEL ansaetze).
* :mod:`.functor`: our functor, lambeq quantum diagram -> ``qiskit.QuantumCircuit`` with
  :class:`circuits.Postselect`, parameters named by lambeq symbol.
* :mod:`.model`: :class:`QNLPModel`, batches by circuit shape on the torch engine.
* :mod:`.shots`: a trained model on Aer with shots or an IBM fake backend (postselected counts).
* :mod:`.task` and :mod:`.models`: the ``qnlp`` task and model of the registry.

The heavy modules (lambeq) load on first use of their names, so the registry stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import models as _models  # noqa: F401  (registers the model)
from . import task as _task  # noqa: F401  (registers the task)

_EXPORTS = {
    "FunctorSettings": "ansatz",
    "QNLPModel": "model",
    "UnknownWordError": "model",
    "convert": "functor",
    "to_qiskit": "functor",
    "parse": "pregroup",
    "read": "readers",
    "read_text": "discocirc",
    "shot_probabilities": "shots",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'qml.qnlp' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
