"""Fixtures of the LLM generator tests: a small records folder and a tiny model fine-tuned on it."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def records_dir(tmp_path_factory):
    """``records.jsonl`` of 24 QAOA records (max-cut and vertex cover, 3-4 nodes)."""
    from qml.generators.llm import Method, build_dataset, tasks

    root = tmp_path_factory.mktemp("llm-records")
    todo = tasks(["maxcut", "vertex-cover"], [3, 4], range(6), [Method("qaoa", 1)])
    build_dataset(todo, root / "records.jsonl", steps=30, lr=0.05, restarts=0, batch_size=12)
    return root


@pytest.fixture(scope="session")
def tiny_run(records_dir, tmp_path_factory):
    """A tiny GPT-2 fine-tuned on the records for 2 epochs (through the shared trainer)."""
    from qml.training.experiment import train

    run_dir, _ = train(
        "llm-circuits",
        None,
        out=tmp_path_factory.mktemp("llm-runs"),
        data_root=str(records_dir),
        progress=False,
        model_options={"size": "tiny"},
        data_options={"vocab_size": 600, "block": 256},
        epochs=2,
        batch_size=8,
        scheduler="none",  # so that a resume may add epochs
    )
    return run_dir
