"""The model benchmarks in quick mode: they run, cross-check ketml against PennyLane, and write
well-formed JSON and markdown (the timings themselves are not asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hqnn_speed_quick(tmp_path, monkeypatch):
    monkeypatch.setenv("KETML_DATA", str(tmp_path / "no-data"))  # random images: no download
    assert _load("hqnn_speed").main(["--quick", "--samples", "64", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "hqnn_speed.json").read_text())
    assert result["logit_agreement"] < 1e-4 and result["data"] == "random"
    (row,) = result["rows"]
    assert row["batch_size"] == 32 and row["ketml_samples_per_s"] > 0 and row["speedup"] > 0
    assert "| 32 |" in (tmp_path / "hqnn_speed.md").read_text()


def test_qfwp_speed_quick(tmp_path):
    assert _load("qfwp_speed").main(["--quick", "--batch", "4", "--length", "3", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "qfwp_speed.json").read_text())
    assert result["agreement"] < 1e-6
    peers = {r["peer"] for r in result["rows"]}
    assert peers == {"ketml torch engine", "PennyLane default.qubit, broadcast"}


@pytest.mark.parametrize("name", ["repro_hybrid", "repro_sequence"])
def test_reproduction_summaries_from_entries(tmp_path, name):
    module = _load(name)
    (tmp_path / name).mkdir()
    summary = module.summarize(tmp_path)  # no finished entries: empty tables, no checks
    assert summary["entries"] == [] and summary["checks"] == {}
    assert (tmp_path / f"{name}.md").read_text().startswith("#")
