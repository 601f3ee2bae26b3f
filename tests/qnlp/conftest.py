"""Fixtures of the QNLP tests: the lambeq sentence sets from the shared data copy."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def sentence_sets(monkeypatch):
    """``load(name, split)`` reading the shared lambeq-qnlp copy (skips without it)."""
    if not (SHARED / "lambeq-qnlp" / "mc_train_data.txt").is_file():
        pytest.skip(f"no shared lambeq-qnlp copy under {SHARED}")
    monkeypatch.setenv("KETML_DATA", str(SHARED))
    from data.sentences import load_sentences

    return lambda name, split: load_sentences(name, split, download=False)
