"""circuits.ibm_backends and circuits.ibm_results: fake backend lists, engines rebuilt from job
records, results read back with the user's observable labels, and their plots. No network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

import circuits
from circuits import ibm_backends, ibm_results
from circuits.engines.ibm_engine import IBMEngine
from circuits.errors import ConfigurationError
from circuits.observables import pauli_label

pytest.importorskip("qiskit_ibm_runtime")


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("KETML_HOME", str(tmp_path / "ketml"))


def test_pauli_label():
    assert pauli_label(SparsePauliOp("XZ")) == "XZ"
    assert pauli_label(SparsePauliOp.from_list([("ZZ", 0.5), ("XI", -1)])) == "0.5*ZZ + -1*XI"
    assert pauli_label(SparsePauliOp("XZ", coeffs=[2.0])) == "2*XZ"


def test_is_fake_and_account(monkeypatch):
    assert ibm_backends.is_fake("fake_manila") and not ibm_backends.is_fake("ibm_brisbane")
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "x")
    assert ibm_backends.account_configured()


def test_fake_backends_are_sorted_and_filtered_by_width():
    rows = ibm_backends.fake_backends()
    names = [r["name"] for r in rows]
    assert names == sorted(names) and "fake_manila" in names
    assert {"name": "fake_manila", "num_qubits": 5} in rows
    wide = ibm_backends.fake_backends(min_qubits=100)
    assert wide and all(r["num_qubits"] >= 100 for r in wide)
    assert "fake_manila" not in {r["name"] for r in wide}


def _estimate(eng, qc, obs, values):
    circuits.expval(qc, obs, values, engine=eng)
    (rec,) = [r for r in eng.registry.list() if r.kind == "estimator"]
    return rec


def test_results_read_back_with_the_users_labels(tmp_path):
    a = Parameter("a")
    qc = QuantumCircuit(2)
    qc.ry(a, 0)
    qc.cx(0, 1)
    eng = IBMEngine("fake_manila", noise=False, precision=0.01, seed=3)
    rec = _estimate(eng, qc, ["ZZ", "IX", "ZI"], torch.tensor([[0.0], [np.pi]]))
    registry = eng.registry
    values = ibm_results.result_values(registry, rec, registry.cached_result(rec))
    evs = values["expectation_values"]
    assert isinstance(evs, list) and len(evs) == 2  # one dict per parameter row
    assert [list(row) for row in evs] == [["ZZ", "IX", "ZI"]] * 2  # the user's labels, not ISA ones
    assert evs[0]["ZZ"] == pytest.approx(1, abs=0.05) and evs[1]["ZI"] == pytest.approx(-1, abs=0.05)
    assert list(values["stds"][0]) == ["ZZ", "IX", "ZI"]
    assert ibm_results.expectation_labels(None, 3) == ["obs0", "obs1", "obs2"]

    again = ibm_backends.engine_for_record(rec)
    assert again.backend.name == "fake_manila" and again.local

    png = tmp_path / "plots" / "evs.png"
    ibm_results.plot_result(values, png, "estimator")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigurationError, match="cannot write"):
        ibm_results.plot_result(values, blocker / "x.png", "t")


def test_counts_sorted_most_frequent_first(tmp_path):
    qc = QuantumCircuit(2)
    qc.x(0)
    qc.h(1)
    eng = IBMEngine("fake_manila", noise=False, seed=5)
    circuits.sample(qc, shots=300, engine=eng)
    (rec,) = eng.registry.list()
    values = ibm_results.result_values(eng.registry, rec, eng.registry.cached_result(rec))
    counts = values["counts"]
    assert isinstance(counts, dict) and set(counts) == {"01", "11"} and sum(counts.values()) == 300
    assert list(counts.values()) == sorted(counts.values(), reverse=True)
    png = tmp_path / "counts.png"
    ibm_results.plot_result(values, png, "sampler")
    assert png.stat().st_size > 1000
