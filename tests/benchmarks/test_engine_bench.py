"""The engine benchmark (``benchmarks.engine_bench``) in --quick mode: runs, cross-checks, writes a
well-formed report.

No timing assertions: only that every measurement exists, is positive and that the peers
agree with ketml. A peer whose package or ketml engine is missing here must be recorded as
skipped with the reason; every peer that can run must run and pass the cross-check.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from benchmarks.engine_bench import cli, qnn_step, report, runner, throughput
from benchmarks.engine_bench.simulators import GPU_SIMS
from benchmarks.harness import ROOT
from benchmarks.harness import peers as harness_peers

NEW_PEERS = ("ketml_pennylane_dq", "ketml_pennylane_lq", "ketml_aer", "ketml_cudaq", "qiskit_ml")
SHIFT_PEERS = ("ketml_aer", "ketml_cudaq", "qiskit_ml")


def _can_run(peer: str) -> bool:
    """Whether ``peer``'s package / ketml engine is installed and usable here."""
    from circuits import engines

    if peer == "qiskit_ml":
        return importlib.util.find_spec("qiskit_machine_learning") is not None
    engine = {"ketml_pennylane_dq": "pennylane", "ketml_pennylane_lq": "pennylane"}.get(
        peer, peer.removeprefix("ketml_")
    )
    return engines.available().get(engine) == "ok"


def _assert_ok_or_unavailable(peer: str, rec: dict) -> None:
    if _can_run(peer):
        assert rec["status"] == "ok", (peer, rec)
    else:
        assert rec["status"] == "skipped", (peer, rec)
        assert rec["reason"].startswith(("not installed", "unavailable")), (peer, rec)


@pytest.fixture(scope="module")
def bench():
    """The package's pieces under one name, as the tests use them."""
    return SimpleNamespace(
        parse_args=cli.parse_args,
        run=runner.run,
        markdown=report.markdown,
        crosscheck=qnn_step.crosscheck,
        qnn_step_benchmark=qnn_step.qnn_step_benchmark,
        target_verdict=qnn_step.target_verdict,
        gpu_throughput_benchmark=throughput.gpu_throughput_benchmark,
        GPU_SIMS=GPU_SIMS,
    )


@pytest.fixture(scope="module")
def quick_report(bench, tmp_path_factory):
    out = tmp_path_factory.mktemp("engine_bench")
    # the parameter-shift peers (ketml aer / cudaq, qiskit-ml: seconds per sample) on 1 sample
    quick = (
        "--quick --qubits 4 --repeats 2 --batch 8 --throughput-qubits 10 --throughput-layers 3 "
        "--no-memory-cap --shift-batch 1"
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
        "--skip-peers",
        "--shift-max-qubits",
        "--shift-batch",
        "--qiskit-ml-estimator",
        "--gpu",
        "--gpu-qubits",
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
    assert set(machine["engines"]) >= {"torch", "pennylane", "aer", "cudaq"}
    assert data["config"]["repeats"] == 2
    assert data["config"]["shift_batch"] == 1
    assert "| n | ketml backprop | ketml adjoint |" in md
    assert "default.qubit" in md and "lightning.qubit" in md and "target" in md
    header = next(line for line in md.splitlines() if line.startswith("| n | ketml backprop"))
    for label in (
        "ketml backprop (b=1)",
        "ketml pennylane default.qubit",
        "ketml pennylane lightning.qubit",
        "ketml aer (b=1)",
        "ketml cudaq qpp-cpu (b=1)",
        "qiskit-ml EstimatorQNN (b=1)",
    ):
        assert label in header
    tp_header = next(line for line in md.splitlines() if line.startswith("| n | precision"))
    for label in ("ketml (torch)", "Aer", "lightning.qubit", "default.qubit", "CUDA-Q qpp-cpu"):
        assert f"| {label} |" in tp_header
    assert md == data["markdown"] == report["markdown"]


def test_quick_run_crosscheck_passed(quick_report):
    _, report = quick_report
    assert report["crosscheck_passed"] is True
    assert report["crosscheck_max_abs_diff"] < 1e-4
    (entry,) = report["qnn_step"]
    check = entry["crosscheck"]
    assert check["passed"] and check["max_abs_diff"] < 1e-4
    for peer in ("ketml_adjoint", "default_qubit", "lightning_qubit") + NEW_PEERS:
        rec = check["peers"][peer]
        if peer in NEW_PEERS:
            _assert_ok_or_unavailable(peer, rec)
            if rec["status"] != "ok":
                continue
        assert rec["status"] == "ok", rec
        assert rec["passed"] is True
        assert rec["max_abs_diff_outputs"] < 1e-4
        assert rec["max_abs_diff_grad"] < 1e-4
        assert peer in report["crosscheck_peers"]
    for peer in SHIFT_PEERS:  # checked on --shift-check-batch samples (1)
        if check["peers"][peer]["status"] == "ok":
            assert check["peers"][peer]["batch"] == 1


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
    # the new peers: full batch for the PennyLane engine, the shift batch (1) for the others,
    # compared with ketml backprop timed on that same batch
    ref = entry["peers"]["ketml_backprop_shift_batch"]
    assert ref["status"] == "ok" and ref["batch"] == 1 and ref["median_s"] > 0
    for peer in NEW_PEERS:
        rec = entry["peers"][peer]
        _assert_ok_or_unavailable(peer, rec)
        assert rec["batch"] == (1 if peer in SHIFT_PEERS else 8)
        if rec["status"] != "ok":
            continue
        assert len(rec["times_s"]) == rec["repeats"] == 2
        assert all(t > 0 for t in rec["times_s"]) and rec["median_s"] > 0
        ratio = entry["ratios"][peer]
        assert ratio["ketml_best"] > 0
        expected = "ketml_backprop_shift_batch" if peer in SHIFT_PEERS else "ketml_best"
        assert ratio["reference"] == expected
    assert {(r["n_qubits"], r["precision"]) for r in report["throughput"]} == {
        (10, "single"),
        (10, "double"),
    }
    for r in report["throughput"]:
        assert r["gates"] == 3 * (3 * 10 + 9)
        for sim in ("ketml", "aer", "lightning_qubit"):
            assert r[sim]["status"] == "ok", r[sim]
            assert r[sim]["median_s"] > 0 and r[sim]["bandwidth_GBps"] > 0
        assert r["fidelity"] > 0.999
        from circuits import engines

        for sim, engine in (("default_qubit", "pennylane"), ("cudaq_qpp", "cudaq")):
            rec = r[sim]
            if r["precision"] == "single":  # both simulate in double precision only
                assert rec["status"] == "skipped" and rec["reason"].startswith("n/a")
            elif engines.available()[engine] == "ok":
                assert rec["status"] == "ok" and rec["median_s"] > 0, rec
            else:
                assert rec["status"] == "skipped" and rec["reason"].startswith("unavailable")
        for sim, fidelity in r["fidelities"].items():
            assert r[sim]["status"] == "ok" and fidelity > 0.999


def test_module_runs_as_a_command():
    """``python -m benchmarks.engine_bench --help`` (what ``make bench`` runs, with options)."""
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks.engine_bench", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("usage: engine_bench") and "--shift-max-qubits" in res.stdout


def test_failed_crosscheck_exits_2(monkeypatch, capsys):
    from benchmarks.harness import CrossCheckError

    def disagree(args):
        raise CrossCheckError("n=4: peers disagree")

    monkeypatch.setattr(cli, "run", disagree)
    assert cli.entry_point(["--quick"]) == 2
    assert "CROSS-CHECK FAILED: n=4: peers disagree" in capsys.readouterr().err


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


def test_shift_peers_skipped_above_shift_max_qubits(bench, tmp_path):
    others = ["ketml_adjoint", "default_qubit", "lightning_qubit", "ketml_pennylane_dq", "ketml_pennylane_lq"]
    args = bench.parse_args(
        [
            "--quick",
            "--batch",
            "4",
            "--shift-max-qubits",
            "3",
            "--skip-peers",
            *others,
            "--out",
            str(tmp_path),
        ]
    )
    entry = bench.qnn_step_benchmark(args, 4)
    for peer in SHIFT_PEERS:
        for rec in (entry["peers"][peer], entry["crosscheck"]["peers"][peer]):
            assert rec["status"] == "skipped"
            assert rec["reason"].startswith("too slow (parameter shift: 2*P evaluations per sample)")
    assert entry["peers"]["ketml_backprop"]["status"] == "ok"
    assert "ketml_backprop_shift_batch" not in entry["peers"]  # nothing to compare it with
    report = {"machine": _machine(), "config": vars(args) | {"shift_max_qubits": 3}, "qnn_step": [entry]}
    assert "skipped (too slow)" in bench.markdown(report)


def test_unavailable_engine_or_package_is_recorded_not_raised(bench, monkeypatch):
    monkeypatch.setattr(
        harness_peers, "_ENGINE_STATUS", {"cudaq": "cudaq is not installed: pip install 'ketml[cudaq]'"}
    )
    for name in [m for m in sys.modules if m.split(".")[0] == "qiskit_machine_learning"] + [
        "qiskit_machine_learning"
    ]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it fails
    check = bench.crosscheck(2, 1, ["ketml_backprop", "ketml_cudaq", "qiskit_ml"], batch=2, seed=0)
    cudaq = check["peers"]["ketml_cudaq"]
    assert cudaq["status"] == "skipped" and cudaq["reason"].startswith("unavailable: ketml engine 'cudaq'")
    assert "not installed" in cudaq["reason"]
    qml_rec = check["peers"]["qiskit_ml"]
    assert qml_rec["status"] == "skipped" and qml_rec["reason"].startswith("not installed")
    assert check["passed"] is True


def test_gpu_rows_skip_cleanly_without_a_gpu(bench, tmp_path):
    import torch

    args = bench.parse_args(["--quick", "--gpu", "--gpu-qubits", "6", "--throughput-layers", "2"])
    rows = [bench.gpu_throughput_benchmark(args, 6, p) for p in ("single", "double")]
    for r in rows:
        assert r["reference"] == "torch_cuda"
        for sim in bench.GPU_SIMS:
            rec = r[sim]
            assert rec["status"] in ("ok", "skipped")
            if not torch.cuda.is_available():
                assert rec["status"] == "skipped" and rec["reason"].startswith("unavailable"), rec
    md = bench.markdown({"machine": _machine(), "config": {"throughput_layers": 2}, "gpu_throughput": rows})
    assert "## GPU state-vector throughput" in md
    for label in ("ketml torch CUDA", "lightning.gpu", "Aer GPU", "CUDA-Q nvidia"):
        assert label in md


def _machine() -> dict:
    versions = {k: "x" for k in ("torch", "pennylane", "pennylane_lightning", "qiskit-aer")}
    return {
        "cpu_model": "cpu",
        "cpu_count": 1,
        "torch_threads": 1,
        "versions": versions,
        "date_utc": "now",
        "load_average_start": [0.0],
    }


def test_committed_results_render_unchanged():
    """The committed report still reads: its JSON renders to the committed markdown."""
    results = ROOT / "benchmarks" / "results"
    data = json.loads((results / "engine_bench.json").read_text())
    assert data["schema_version"] == runner.SCHEMA_VERSION
    md = report.markdown(data)
    assert md == data["markdown"] == (results / "engine_bench.md").read_text()
