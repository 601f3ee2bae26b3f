"""benchmarks/engine_bench.py in --quick mode: runs, cross-checks, writes a well-formed report.

No timing assertions: only that every measurement exists, is positive and that the peers
agree with ketml.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "engine_bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("engine_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["engine_bench"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("engine_bench", None)


@pytest.fixture(scope="module")
def quick_report(bench, tmp_path_factory):
    out = tmp_path_factory.mktemp("engine_bench")
    quick = (
        "--quick --qubits 4 --repeats 2 --batch 8 --throughput-qubits 10 --throughput-layers 3 "
        "--no-memory-cap"
    )
    args = bench.parse_args(quick.split() + ["--out", str(out)])
    report = bench.run(args)
    return out, report


def test_help_lists_options(bench, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.parse_args(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--qubits",
        "--repeats",
        "--batch",
        "--layers",
        "--quick",
        "--out",
        "--skip-throughput",
        "--threads",
    ):
        assert option in text


def test_quick_run_writes_json_and_markdown(quick_report):
    out, report = quick_report
    data = json.loads((out / "engine_bench.json").read_text())
    md = (out / "engine_bench.md").read_text()
    for key in (
        "machine",
        "config",
        "qnn_step",
        "throughput",
        "crosscheck_passed",
        "crosscheck_max_abs_diff",
        "target_passed",
        "markdown",
    ):
        assert key in data
    machine = data["machine"]
    for key in ("cpu_model", "cpu_count", "versions", "torch_threads", "date_utc"):
        assert key in machine
    for package in ("torch", "pennylane", "qiskit-aer"):
        assert machine["versions"][package]
    assert data["config"]["repeats"] == 2
    assert "| n | ketml backprop | ketml adjoint |" in md
    assert "default.qubit" in md and "lightning.qubit" in md and "target" in md
    assert md == data["markdown"] == report["markdown"]


def test_quick_run_crosscheck_passed(quick_report):
    _, report = quick_report
    assert report["crosscheck_passed"] is True
    assert report["crosscheck_max_abs_diff"] < 1e-4
    (entry,) = report["qnn_step"]
    check = entry["crosscheck"]
    assert check["passed"] and check["max_abs_diff"] < 1e-4
    for peer in ("ketml_adjoint", "default_qubit", "lightning_qubit"):
        rec = check["peers"][peer]
        assert rec["status"] == "ok", rec
        assert rec["max_abs_diff_outputs"] < 1e-4
        assert rec["max_abs_diff_grad"] < 1e-4


def test_quick_run_times_are_positive(quick_report):
    _, report = quick_report
    (entry,) = report["qnn_step"]
    assert entry["n_qubits"] == 4 and entry["batch"] == 8
    for peer in ("ketml_backprop", "ketml_adjoint", "default_qubit", "lightning_qubit"):
        rec = entry["peers"][peer]
        assert rec["status"] == "ok", rec
        assert len(rec["times_s"]) == rec["repeats"] == 2
        assert all(t > 0 for t in rec["times_s"])
        assert rec["median_s"] > 0
    assert entry["ratios"]["default_qubit"]["ketml_best"] > 0
    assert entry["target"]["passed"] in (True, False)
    assert entry["peers"]["lightning_qubit"]["batching"]["device_tapes"] >= 1
    assert {(r["n_qubits"], r["precision"]) for r in report["throughput"]} == {
        (10, "single"),
        (10, "double"),
    }
    for r in report["throughput"]:
        assert r["gates"] == 3 * (3 * 10 + 9)
        for sim in ("ketml", "aer"):
            assert r[sim]["status"] == "ok"
            assert r[sim]["median_s"] > 0 and r[sim]["bandwidth_GBps"] > 0
        assert r["fidelity"] > 0.999


def test_slow_or_failing_peer_is_recorded_not_raised(bench):
    def boom():
        raise MemoryError("simulated")

    rec = bench.time_call(boom, repeats=2, warmup=1, budget_s=5, total_budget_s=10)
    assert rec["status"] == "skipped" and rec["reason"].startswith("out of memory")

    def slow():
        import time

        time.sleep(0.05)

    rec = bench.time_call(slow, repeats=2, warmup=1, budget_s=0.01, total_budget_s=10)
    assert rec["status"] == "skipped" and rec["reason"].startswith("timeout")


def test_target_verdict(bench):
    ok = {"status": "ok"}
    timings = {
        "ketml_backprop": dict(ok, median_s=1.0),
        "ketml_adjoint": dict(ok, median_s=2.0),
        "default_qubit": dict(ok, median_s=4.0),
    }
    assert bench.target_verdict(8, timings)["passed"] is False  # 4x < 5x
    assert bench.target_verdict(16, timings)["passed"] is True  # never slower above 12
    timings["default_qubit"] = {"status": "skipped", "reason": "out of memory (predicted): x"}
    assert bench.target_verdict(16, timings)["passed"] is True
