"""The model benchmarks in quick mode: they run, cross-check ketml against PennyLane, and write
well-formed JSON and markdown (the timings themselves are not asserted); the reproductions merge
their finished entries into one summary."""

from __future__ import annotations

import importlib
import json

import pytest


def _load(name: str):
    return importlib.import_module(f"benchmarks.{name}")


def test_hqnn_speed_quick(tmp_path, monkeypatch):
    monkeypatch.setenv("KETML_DATA", str(tmp_path / "no-data"))  # random images: no download
    assert _load("hqnn_speed").main(["--quick", "--samples", "64", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "hqnn_speed.json").read_text())
    assert result["logit_agreement"] < 1e-4 and result["data"] == "random"
    (row,) = result["rows"]
    assert row["batch_size"] == 32 and row["ketml_samples_per_s"] > 0 and row["speedup"] > 0
    assert set(result["machine"]) == {"platform", "cpus", "threads", "torch", "pennylane"}
    assert result["machine"]["torch"] and result["machine"]["threads"] >= 1
    assert "| 32 |" in (tmp_path / "hqnn_speed.md").read_text()


def test_qfwp_speed_quick(tmp_path):
    assert _load("qfwp_speed").main(["--quick", "--batch", "4", "--length", "3", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "qfwp_speed.json").read_text())
    assert result["agreement"] < 1e-6
    peers = {r["peer"] for r in result["rows"]}
    assert peers == {"ketml torch engine", "PennyLane default.qubit, broadcast"}
    for row in result["rows"]:
        assert len(row["times_s"]) == 3 and all(t > 0 for t in row["times_s"])  # --quick: 3 repeats
    md = (tmp_path / "qfwp_speed.md").read_text().splitlines()
    assert "| peer | median ms | speed-up vs PennyLane broadcast |" in md


@pytest.mark.parametrize("name", ["repro_hybrid", "repro_sequence"])
def test_reproduction_summaries_from_entries(tmp_path, name):
    module = _load(name)
    (tmp_path / name).mkdir()
    summary = module.summarize(tmp_path)  # no finished entries: empty tables, no checks
    assert summary["entries"] == [] and summary["checks"] == {}
    assert (tmp_path / f"{name}.md").read_text().startswith("#")
    assert json.loads((tmp_path / f"{name}.json").read_text())["machine"]["torch"]


def test_repro_hybrid_summary_checks_the_target(tmp_path):
    module = _load("repro_hybrid")
    entry = {
        "id": "hqnn-parallel-mnist",
        "model": "hqnn-parallel",
        "dataset": "mnist",
        "test_accuracy": 0.99,
        "best_val_accuracy": 0.991,
        "epochs": 15,
        "n_parameters": 10,
        "n_quantum_parameters": 4,
        "seconds_per_epoch": 12.0,
        "robust_accuracy": {"fgsm@0.1": 0.5, "pgd@0.1": 0.4, "pgd-paper@0.1": 0.3},
        "robust_n_test": 100,
    }
    module.EntryStore(tmp_path / "repro_hybrid").save(entry["id"], entry)
    summary = module.summarize(tmp_path)
    assert [r["id"] for r in summary["entries"]] == ["hqnn-parallel-mnist"]
    assert summary["checks"] == {"hqnn-parallel-mnist (15 epochs) test accuracy >= 0.992": False}
    md = (tmp_path / "repro_hybrid.md").read_text()
    assert "| hqnn-parallel | mnist | 99.00 % | 99.10 % | 99.21 % | 10 (4) | 15 | 12 |" in md


def test_reproduction_rejects_an_unknown_entry(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _load("repro_sequence").main(["--only", "no-such-entry", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "unknown entry no-such-entry; known:" in capsys.readouterr().err


def test_repro_chemistry_summary(tmp_path):
    module = _load("repro_chemistry")
    fci = {"n_qubits": 4, "lowest_eigenvalue": -1.1372838, "pyscf_fci": -1.1372838, "difference": 1e-12}
    module.EntryStore(tmp_path / "repro_chemistry").save("fci-H2", fci)
    summary = module.summarize(tmp_path)
    assert summary["entries"] == {"fci-H2": fci} and isinstance(summary["machine"], str)
    md = (tmp_path / "repro_chemistry.md").read_text()
    assert "| H2 | 4 | -1.1372838000 | -1.1372838000 | 1.0e-12 |" in md


def test_gqe_peer_summary(tmp_path):
    module = _load("gqe_peer")
    run = {
        "molecule": "H2",
        "solver": "ketml",
        "error": 1e-4,
        "seconds": 3.0,
        "seconds_to_chemical_accuracy": None,
        "evaluations": 600,
    }
    module.write_json(tmp_path / "gqe_peer" / "H2-result-ketml.json", run)
    rows = module.summarize(tmp_path)
    assert rows == [run] and json.loads((tmp_path / "gqe_peer.json").read_text()) == [run]
    assert "| H2 | ketml | 0.100 | - | 3.0 | 600 | complete |" in (tmp_path / "gqe_peer.md").read_text()
