"""The functor settings: reader, rewriters and lambeq ansatz, from sentence to quantum diagram.

:class:`FunctorSettings` is what a trained model must be evaluated with again (it is saved with
the model): the reader, the target type, lambeq's rewrite rules (plus ``remove-cups``, lambeq's
``RemoveCupsRewriter``), the ansatz (``iqp``, ``sim14``, ``sim15``, ``sel``; lambeq's
IQPAnsatz, Sim14Ansatz, Sim15Ansatz, StronglyEntanglingAnsatz), its layers and the qubits of
each atomic type.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from lambeq import (
    IQPAnsatz,
    RemoveCupsRewriter,
    Rewriter,
    Sim14Ansatz,
    Sim15Ansatz,
    StronglyEntanglingAnsatz,
)
from lambeq.backend.grammar import Diagram, Ty
from lambeq.backend.quantum import Diagram as QuantumDiagram

from circuits.errors import ConfigurationError, UnknownNameError

from .readers import READERS, read

__all__ = ["ANSATZE", "REWRITE_RULES", "FunctorSettings"]

ANSATZE = {
    "iqp": IQPAnsatz,
    "sim14": Sim14Ansatz,
    "sim15": Sim15Ansatz,
    "sel": StronglyEntanglingAnsatz,
}
#: lambeq's rewrite rules by name, and "remove-cups" (RemoveCupsRewriter, applied last)
REWRITE_RULES = (*Rewriter.available_rules(), "remove-cups")


@dataclass(frozen=True)
class FunctorSettings:
    """Everything between a sentence and its circuit. ``noun_qubits``/``sentence_qubits``: qubits
    of the atomic types ``n`` and ``s``; ``target``: the type the pregroup parser reduces to."""

    reader: str = "pregroup"
    ansatz: str = "iqp"
    layers: int = 1
    noun_qubits: int = 1
    sentence_qubits: int = 1
    rewriters: tuple[str, ...] = ("remove-cups",)
    target: str = "s"

    def __post_init__(self) -> None:
        if self.reader not in READERS:
            raise UnknownNameError(f"unknown reader {self.reader!r}; known: {', '.join(READERS)}")
        if self.ansatz not in ANSATZE:
            raise UnknownNameError(f"unknown ansatz {self.ansatz!r}; known: {', '.join(ANSATZE)}")
        if self.layers < 1:
            raise ConfigurationError(f"layers must be >= 1; got {self.layers}")
        if self.noun_qubits < 1 or self.sentence_qubits < 0:
            raise ConfigurationError(
                f"noun_qubits must be >= 1 and sentence_qubits >= 0; got {self.noun_qubits}, "
                f"{self.sentence_qubits}"
            )
        object.__setattr__(self, "rewriters", tuple(self.rewriters))
        unknown = [r for r in self.rewriters if r not in REWRITE_RULES]
        if unknown:
            raise UnknownNameError(f"unknown rewrite rule(s) {unknown}; known: {', '.join(REWRITE_RULES)}")
        if self.target not in ("s", "n"):
            raise ConfigurationError(
                f"target must be 's' (sentences) or 'n' (noun phrases); got {self.target!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["rewriters"] = list(self.rewriters)
        return out

    @functools.cached_property
    def _ansatz(self):
        ob_map = {Ty("n"): self.noun_qubits, Ty("s"): self.sentence_qubits}
        return ANSATZE[self.ansatz](ob_map, n_layers=self.layers)

    def grammar(self, sentence: str) -> Diagram:
        """The sentence's grammar diagram after the rewrite rules."""
        diagram = read(sentence, self.reader, self.target)
        rules = [r for r in self.rewriters if r != "remove-cups"]
        if rules:
            diagram = Rewriter(rules)(diagram)
        if "remove-cups" in self.rewriters:
            diagram = RemoveCupsRewriter()(diagram)
        return diagram

    def quantum(self, sentence: str) -> QuantumDiagram:
        """The sentence's lambeq quantum diagram (the ansatz applied to :meth:`grammar`)."""
        return self._ansatz(self.grammar(sentence))
