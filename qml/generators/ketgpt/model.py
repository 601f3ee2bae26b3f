"""KetGPT (Apak, Bandic, Sarkar, Feld, arXiv 2402.13352) as a registered model: a GPT-2 trained from
scratch on real algorithm circuits (``ketml train ketgpt --dataset algorithm-circuits``).

The size is a preset of :data:`qml.generators.lm.LM_SIZES` (``-O size='paper'`` for the GPT-2
configuration noted for the paper); the context is the task's ``block`` data option.
"""

from __future__ import annotations

from typing import Any

from qml.registry import register_model

from ..lm import LM_TRAINING, CircuitLM

__all__ = ["build_ketgpt"]


def build_ketgpt(
    dims: dict[str, Any], *, engine: str = "torch", size: str = "small", **options: Any
) -> CircuitLM:
    """A :class:`CircuitLM` for the task's tokenizer and block length (``engine`` is unused: no
    quantum layer)."""
    options.setdefault("n_positions", dims["block"])
    return CircuitLM(dims["vocab_size"], size, dims["eos_id"], dims["pad_id"], **options)


register_model(
    "ketgpt",
    tasks=("circuit-lm",),
    description="KetGPT: GPT-2 from scratch on MQT Bench QASM circuits, writes realistic circuits",
    quantum=False,
    defaults={**LM_TRAINING, "epochs": 8},
    presets={
        "algorithm-circuits": {"options": {"size": "small"}, "data": {"vocab_size": 2000, "block": 512}},
        "algorithm-circuits-quick": {
            "options": {"size": "tiny"},
            "train": {"epochs": 4, "batch_size": 8, "lr": 3e-3},
            "data": {"vocab_size": 600, "block": 128},
        },
    },
    cli_options={"size": (str, "model size: tiny, small (default) or paper (6 layers, 768 wide)", "size")},
    build=build_ketgpt,
)
