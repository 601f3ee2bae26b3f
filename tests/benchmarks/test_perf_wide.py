"""``benchmarks/perf_wide.py`` in --quick mode: every row runs, passes its cross-check and is
reported with its ratios and target (never the timings themselves); ``--only`` keeps the
other rows. Slow (about a minute: PennyLane, lightning and Aer start up)."""

from __future__ import annotations

import json

import pytest

from benchmarks import perf_wide

pytest.importorskip("pennylane")
pytest.importorskip("qiskit_aer")


@pytest.mark.slow
def test_quick_run_writes_every_row(tmp_path):
    assert perf_wide.main(["--quick", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "perf_wide.json").read_text())
    assert set(data["rows"]) == {"lightcone", "adjoint", "width", "pennylane_4"}
    for key, row in data["rows"].items():
        assert row["ratio"]["wall"] > 0 and row["ratio"]["cpu"] > 0, key
        assert all(p["median_s"] > 0 for p in row["peers"].values()), key
    cone = data["rows"]["lightcone"]["cone"]
    assert cone["parts"] and max(cone["parts"]) < 12  # the quick circuit's cone drops qubits
    assert data["rows"]["width"]["fidelity"] > 0.9999
    md = (tmp_path / "perf_wide.md").read_text()
    assert "perf_wide.py --quick" in md and "| lightcone |" in md
    assert perf_wide.main(["--quick", "--only", "adjoint", "--out", str(tmp_path)]) == 0
    again = json.loads((tmp_path / "perf_wide.json").read_text())
    assert set(again["rows"]) == set(data["rows"])  # the other rows were kept
