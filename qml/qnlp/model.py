"""``QNLPModel``: word parameters shared across sentences, sentences evaluated as circuits.

Each text goes through the functor settings (reader, rewriters, ansatz: :mod:`.ansatz`) and our
functor (:mod:`.functor`) to a circuit shape and the lambeq symbol in each of its angle slots.
One ``nn.Parameter`` holds a value (in turns, as lambeq's) per symbol of the vocabulary; a batch
is split by circuit shape and each shape is one :func:`circuits.statevector` call on the
template, whose postselections the torch engine applies and renormalises. The class
probabilities are those of the first output qubit (``readout="first"``: the sentence qubit; the
protagonist's wire for DisCoCirc texts), or their mean over every output qubit
(``readout="mean"``: the whole text's wires, for DisCoCirc).

Unknown words (at prediction time): ``unknown="error"`` raises :class:`UnknownWordError` naming
them; ``unknown="unk"`` gives every word box a learned ``<unk>`` twin (one per grammatical type)
that is trained by word dropout (``unk_dropout``: the chance that a word of a training sentence
is replaced by its twin) and stands in for words the model never saw.

The state dict carries the vocabulary and the functor settings; loading it into a model built
with other settings raises :class:`~circuits.errors.ConfigurationError` naming the difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from circuits import statevector
from circuits.errors import ConfigurationError, UnknownNameError

from .ansatz import FunctorSettings
from .functor import CircuitShape, convert

__all__ = ["UNKNOWN_POLICIES", "QNLPModel", "UnknownWordError", "output_marginal"]

UNKNOWN_POLICIES = ("error", "unk")
READOUTS = ("first", "mean")
_UNK = "<unk>"
_FORMAT = 1


class UnknownWordError(UnknownNameError):
    """A sentence uses words the model has no parameters for (policy ``unknown="error"``)."""


@dataclass(frozen=True)
class _Compiled:
    """One text ready to run: its shape, and per slot the symbol's word and name."""

    shape: CircuitShape
    symbols: tuple[str, ...]
    words: tuple[str, ...]


def _word_of(symbol: str, names: Sequence[str]) -> str:
    """The box (word) that lambeq's ansatz named ``symbol`` after (``<name>_<dom>_<cod>_<i>``)."""
    best = ""
    for name in names:
        if symbol.startswith(name + "_") and len(name) > len(best):
            best = name
    return best or symbol.split("_", 1)[0]


def _unk_symbol(symbol: str, word: str) -> str:
    return _UNK + symbol[len(word) :]


def output_marginal(state: torch.Tensor, n_qubits: int, qubit: int) -> torch.Tensor:
    """Probabilities ``(B, 2)`` of ``qubit`` (Qiskit order: qubit 0 least significant) in the
    normalised states ``(B, 2**n_qubits)``; the other qubits are traced out."""
    probs = (state.real**2 + state.imag**2).reshape((-1,) + (2,) * n_qubits)
    axis = n_qubits - qubit  # dim 1 is the most significant qubit
    others = [d for d in range(1, n_qubits + 1) if d != axis]
    p = probs.sum(dim=others) if others else probs
    return p / p.sum(dim=1, keepdim=True).clamp_min(1e-30)


class QNLPModel(nn.Module):
    """Sentence classifier: ``forward(x)`` takes corpus indices ``(B,)`` (a LongTensor into
    ``sentences``) or a list of texts and returns log class probabilities ``(B, 2)``.

    ``sentences``: every text the model should know (train, validation and test together, as
    lambeq's ``from_diagrams``), which fixes the vocabulary. The other arguments are
    :class:`~.ansatz.FunctorSettings` fields, the unknown-word policy, and the engine (``torch``:
    the engine with postselection) with its options (``dtype``, ``device``)."""

    def __init__(
        self,
        sentences: Sequence[str],
        *,
        reader: str = "pregroup",
        ansatz: str = "iqp",
        layers: int = 1,
        noun_qubits: int = 1,
        sentence_qubits: int = 1,
        rewriters: Sequence[str] = ("remove-cups",),
        target: str = "s",
        unknown: str = "error",
        unk_dropout: float = 0.1,
        readout: str = "first",
        engine: str = "torch",
        engine_options: dict[str, Any] | None = None,
    ):
        super().__init__()
        if unknown not in UNKNOWN_POLICIES:
            raise ConfigurationError(f"unknown= must be one of {UNKNOWN_POLICIES}; got {unknown!r}")
        if readout not in READOUTS:
            raise ConfigurationError(f"readout must be one of {READOUTS}; got {readout!r}")
        if not 0 <= unk_dropout < 1:
            raise ConfigurationError(f"unk_dropout must be in [0, 1); got {unk_dropout}")
        self.settings = FunctorSettings(
            reader, ansatz, layers, noun_qubits, sentence_qubits, tuple(rewriters), target
        )
        self.unknown, self.unk_dropout, self.readout = unknown, unk_dropout, readout
        self.engine, self.engine_options = engine, dict(engine_options or {})
        self.sentences = list(sentences)
        self._cache: dict[str, _Compiled] = {}
        self._shapes: dict[CircuitShape, CircuitShape] = {}
        symbols: dict[str, None] = {}
        for text in self.sentences:
            compiled = self.compile(text)
            symbols.update(dict.fromkeys(compiled.symbols))
            if unknown == "unk":
                symbols.update(
                    dict.fromkeys(
                        _unk_symbol(s, w) for s, w in zip(compiled.symbols, compiled.words, strict=True)
                    )
                )
        self.vocabulary = sorted(symbols)
        self.index = {name: i for i, name in enumerate(self.vocabulary)}
        # lambeq initialises angles uniformly in [0, 1) turns
        self.weights = nn.Parameter(torch.rand(len(self.vocabulary), dtype=torch.float64))

    # -- sentences to circuits -------------------------------------------------------------------
    def compile(self, text: str) -> _Compiled:
        """``text``'s circuit shape and the symbol (and its word) in each slot; cached."""
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        grammar = self.settings.grammar(text)
        converted = convert(self.settings._ansatz(grammar))
        shape = self._shapes.setdefault(converted.shape, converted.shape)
        if not shape.outputs:
            raise ConfigurationError(
                f"{text!r} has no output qubit with these settings (sentence_qubits="
                f"{self.settings.sentence_qubits}); give its type at least one qubit"
            )
        names = [box.name for box in grammar.boxes]
        words = tuple(_word_of(s, names) for s in converted.symbols)
        out = _Compiled(shape, converted.symbols, words)
        self._cache[text] = out
        return out

    def _slots(self, text: str) -> tuple[CircuitShape, list[int], list[int], list[int]]:
        """Vocabulary indices per slot, their ``<unk>`` twins (-1: none) and word numbers."""
        c = self.compile(text)
        own, unk, missing = [], [], []
        for symbol, word in zip(c.symbols, c.words, strict=True):
            twin = self.index.get(_unk_symbol(symbol, word), -1)
            i = self.index.get(symbol)
            if i is None:
                if self.unknown == "unk" and twin >= 0:
                    i = twin
                else:
                    missing.append(word)
                    continue
            own.append(i)
            unk.append(twin)
        if missing:
            words = ", ".join(repr(w) for w in dict.fromkeys(missing))
            fix = (
                "train with unknown='unk' (ketml train qnlp ... --unknown unk) for a learned "
                "unknown-word embedding"
                if self.unknown == "error"
                else "its grammatical type never occurred in training, so it has no <unk> twin"
            )
            raise UnknownWordError(f"{text!r}: no parameters for the word(s) {words}; {fix}")
        numbers = {w: k for k, w in enumerate(dict.fromkeys(c.words))}
        return c.shape, own, unk, [numbers[w] for w in c.words]

    def circuit(self, text: str):
        """``text`` as a Qiskit circuit, one Parameter per lambeq symbol (:func:`.functor.to_qiskit`)."""
        return convert(self.settings.quantum(text)).circuit()

    # -- evaluation -----------------------------------------------------------------------------
    def _texts(self, x) -> list[str]:
        if isinstance(x, torch.Tensor):
            return [self.sentences[int(i)] for i in x.reshape(-1).tolist()]
        if isinstance(x, str):
            return [x]
        return list(x)

    def forward(self, x) -> torch.Tensor:
        """Log class probabilities ``(B, 2)`` of corpus indices or texts ``x``."""
        return torch.log(self.probabilities(x).clamp_min(1e-12))

    def probabilities(self, x) -> torch.Tensor:
        """Class probabilities ``(B, 2)``: the first output wire measured after postselection."""
        texts = self._texts(x)
        groups: dict[CircuitShape, list[int]] = {}
        slots = [self._slots(t) for t in texts]
        for row, (shape, *_rest) in enumerate(slots):
            groups.setdefault(shape, []).append(row)
        out = torch.empty(len(texts), 2, dtype=self.weights.dtype, device=self.weights.device)
        dropout = self.training and self.unknown == "unk" and self.unk_dropout > 0
        for shape, rows in groups.items():
            idx = torch.tensor([slots[r][1] for r in rows], dtype=torch.long, device=self.weights.device)
            if dropout and idx.shape[1]:
                twins = torch.tensor([slots[r][2] for r in rows], dtype=torch.long, device=idx.device)
                words = torch.tensor([slots[r][3] for r in rows], dtype=torch.long, device=idx.device)
                drop = torch.rand(len(rows), int(words.max()) + 1, device=idx.device) < self.unk_dropout
                swap = drop.gather(1, words) & (twins >= 0)
                idx = torch.where(swap, twins, idx)
            values = self.weights[idx]
            state = statevector(shape.template, {"w": values}, engine=self.engine, **self.engine_options)
            qubits = shape.outputs[:1] if self.readout == "first" else shape.outputs
            probs = sum(output_marginal(state, shape.n_qubits, q) for q in qubits) / len(qubits)
            out[rows] = probs.to(out.dtype)
        return out

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str] | str) -> torch.Tensor:
        """Class probabilities ``(B, 2)`` of new texts, read and converted as in training."""
        was = self.training
        self.eval()
        try:
            return self.probabilities(texts)
        finally:
            self.train(was)

    def n_shapes(self, x=None) -> int:
        """Distinct circuit shapes among the corpus (or ``x``): the engine calls per forward."""
        return len({self.compile(t).shape for t in (self.sentences if x is None else self._texts(x))})

    # -- saving ---------------------------------------------------------------------------------
    def get_extra_state(self) -> dict[str, Any]:
        """Vocabulary, functor settings, unknown-word policy and readout, saved in the state dict."""
        return {
            "format": _FORMAT,
            "vocabulary": list(self.vocabulary),
            "settings": self.settings.to_dict(),
            "unknown": self.unknown,
            "readout": self.readout,
        }

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Refuse a state dict saved with other settings or another vocabulary, naming the difference."""
        mine = self.get_extra_state()
        if state.get("settings") != mine["settings"]:
            diff = {
                k: (state.get("settings", {}).get(k), v)
                for k, v in mine["settings"].items()
                if state.get("settings", {}).get(k) != v
            }
            raise ConfigurationError(
                "these weights were trained with other functor settings (saved vs this model: "
                + ", ".join(f"{k}: {a!r} vs {b!r}" for k, (a, b) in diff.items())
                + "); build the model with the saved settings"
            )
        if state.get("unknown") != self.unknown:
            raise ConfigurationError(
                f"these weights were trained with unknown={state.get('unknown')!r}, this model has "
                f"unknown={self.unknown!r}"
            )
        if state.get("readout", "first") != self.readout:
            raise ConfigurationError(
                f"these weights were trained with readout={state.get('readout')!r}, this model has "
                f"readout={self.readout!r}"
            )
        if state.get("vocabulary") != mine["vocabulary"]:
            saved, own = set(state.get("vocabulary", [])), set(mine["vocabulary"])
            raise ConfigurationError(
                f"the saved vocabulary differs from this model's ({len(saved - own)} symbols only "
                f"saved, {len(own - saved)} only here, e.g. {sorted(saved ^ own)[:3]}); build the "
                "model on the same sentences"
            )
