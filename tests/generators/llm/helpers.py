"""Shared by the LLM generator tests: a tiny GPT-2 trained on a records folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def train_tiny(records_dir: Path, out: Path, data_options: dict[str, Any] | None = None, **config: Any):
    """``(run_dir, metrics)`` of the tiny model trained on ``records_dir`` (vocabulary 600,
    context 256, 1 epoch of batch 8 unless ``config`` says otherwise)."""
    from qml.training.experiment import train

    return train(
        "llm-circuits",
        None,
        out=out,
        data_root=str(records_dir),
        progress=False,
        model_options={"size": "tiny"},
        data_options={"vocab_size": 600, "block": 256, **(data_options or {})},
        **{"epochs": 1, "batch_size": 8, **config},
    )
