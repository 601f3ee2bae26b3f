"""Registration of the ``qnlp`` model (built on first use, so importing the registry stays light:
lambeq takes seconds to import)."""

from __future__ import annotations

from typing import Any

from qml.registry import CliOption, Preset, register_model

__all__ = ["build_qnlp"]


def build_qnlp(dims: dict[str, Any], *, engine: str = "torch", **options: Any):
    """A :class:`~.model.QNLPModel` over the task's corpus ``dims["sentences"]``."""
    from .model import QNLPModel

    rewriters = options.pop("rewriters", ("remove-cups",))
    if isinstance(rewriters, str):
        rewriters = tuple(r for r in rewriters.split(",") if r.strip() and r.strip() != "none")
    options.setdefault("target", dims.get("target", "s"))
    return QNLPModel(dims["sentences"], engine=engine, rewriters=tuple(rewriters), **options)


#: DisCoCirc MC: the rule-based text reading, strongly entangling boxes, all wires read
_DISCOCIRC = Preset(
    options={"reader": "discocirc", "ansatz": "sel", "layers": 2, "rewriters": (), "readout": "mean"},
    train={"lr": 0.03, "epochs": 20},
)

register_model(
    "qnlp",
    tasks=("qnlp",),
    description="DisCoCat/DisCoCirc sentence circuits from lambeq diagrams (de Felice; lambeq 0.5)",
    defaults={"epochs": 30, "batch_size": 10, "lr": 0.1, "optimizer": "adam"},
    presets={
        "discocirc-mc": _DISCOCIRC,
        "lambeq-discocirc-mc": _DISCOCIRC,
    },
    build=build_qnlp,
    cli_options={
        "reader": CliOption(
            str, "pregroup (default), cups, stairs, spiders, bag-of-words, bobcat, discocirc", "reader"
        ),
        "ansatz": CliOption(str, "iqp (default), sim14, sim15 or sel (strongly entangling)", "ansatz"),
        "layers": CliOption(int, "ansatz layers (default 1)", "layers"),
        "noun-qubits": CliOption(int, "qubits of the noun type n (default 1)", "noun_qubits"),
        "sentence-qubits": CliOption(int, "qubits of the sentence type s (default 1)", "sentence_qubits"),
        "rewriters": CliOption(
            str, "comma-separated lambeq rewrite rules and remove-cups (default), or none", "rewriters"
        ),
        "readout": CliOption(str, "first output qubit (default) or mean over all output qubits", "readout"),
        "unknown": CliOption(str, "unknown words at prediction: error (default) or unk (learned)", "unknown"),
        "unk-dropout": CliOption(
            float, "word dropout that trains the <unk> twins (default 0.1)", "unk_dropout"
        ),
    },
)
