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
    from .helpers import train_tiny

    run_dir, _ = train_tiny(
        records_dir, tmp_path_factory.mktemp("llm-runs"), epochs=2, scheduler="none"
    )  # no schedule: a resume may add epochs
    return run_dir
