"""Warm start: the generated angles are the start (its energy is the record's), random starts are
drawn, and a start counts as reached exactly when its energy came within the tolerance."""

from __future__ import annotations

import pytest

from qml.generators.llm.dataset import read_records
from qml.generators.llm.warm_start import summarise_warm_starts, warm_start


def test_warm_start_from_the_records_own_circuit(records_dir):
    recs = read_records(records_dir / "records.jsonl")[:3]
    rows = [warm_start(r["qasm"], r, steps=30, lr=0.1, random_starts=3) for r in recs]
    for r, row in zip(recs, rows, strict=True):
        assert row["generated_start_gap"] == pytest.approx(r["expectation"] - r["exact_energy"], abs=1e-9)
        assert len(row["random_steps"]) == 3
        gen = row["generated_steps"]
        assert (gen is not None) == (row["generated_end_gap"] <= 0.2 or gen < 30)
        assert row["generated_end_gap"] < row["generated_start_gap"]  # the steps lower the energy
    s = summarise_warm_starts(rows + [None])
    assert s["circuits"] == 3 and 0 <= s["generated_reached"] <= 1 and s["budget"] == 30


def test_no_warm_start_without_a_circuit(records_dir):
    r = read_records(records_dir / "records.jsonl")[0]
    assert warm_start("not a circuit", r) is None
    wrong = r["qasm"].replace(f"qubit[{r['n_qubits']}]", f"qubit[{r['n_qubits'] + 1}]")
    assert warm_start(wrong, r) is None
    assert summarise_warm_starts([None]) == {"circuits": 0}
