"""Federated training on both Flower engines, with faults and a server restart (slow: Ray and
the Flower processes take tens of seconds to start on two cores)."""

from __future__ import annotations

import json

import psutil
import pytest

from qml.federated.config import FedConfig

pytestmark = pytest.mark.slow

SMALL = {"dataset": "gaussian-classes", "clients": 3, "partition": "dirichlet:1.0", "qubits": 3, "layers": 2}


def test_simulation_converges_through_faults_and_resumes_after_a_restart(tmp_path, caplog):
    from qml.federated.simulation import run_simulation

    cfg = FedConfig(
        **SMALL, rounds=3, round_timeout=45.0, faults="crash:1:0,shape:2:1,slow:3:2", out_dir=str(tmp_path)
    )
    with caplog.at_level("WARNING", logger="ketml.federated"):
        first = run_simulation(cfg)
    assert first["rounds_done"] == 3
    by_round = {e["round"]: e for e in first["events"]}
    assert by_round[1]["kind"] == "error" and "injected crash of client 0 in round 1" in by_round[1]["detail"]
    assert by_round[2]["kind"] == "shape" and "head.weight" in by_round[2]["detail"]
    assert by_round[3]["kind"] == "timeout"
    assert [h["clients"] for h in first["history"][1:]] == [2, 2, 2]  # each round went on with the others
    assert "the round goes on with the others" in caplog.text
    acc = [h["test_accuracy"] for h in first["history"]]
    assert acc[-1] > acc[0] + 0.2  # 4 classes: it learns despite the faults
    assert (tmp_path / "checkpoint.pt").is_file() and (tmp_path / "rounds.png").is_file()

    # a new server process on the same folder continues after the checkpointed round 3
    again = FedConfig(**SMALL, rounds=4, round_timeout=45.0, out_dir=str(tmp_path))
    with caplog.at_level("WARNING", logger="ketml.federated"):
        second = run_simulation(again)
    assert "resuming from" in caplog.text and "after round 3" in caplog.text
    assert [h["round"] for h in second["history"]] == [0, 1, 2, 3, 4]
    assert second["history"][:4] == first["history"]
    assert second["history"][4]["clients"] == 3

    # the server of this run attacks client 0's gradient for its first sample
    from qml.federated.study import attack_run

    attack = attack_run(tmp_path, client=0, sample=0, starts=4, steps=30, numerical=False)
    assert {"gradient_matching", "feature_attack"} <= set(attack)
    assert attack["feature_attack"]["n_features"] == 63  # 3 qubits
    assert json.loads((tmp_path / "privacy.json").read_text())["client"] == 0


def test_deployment_engine_converges_and_stops_its_processes(tmp_path):
    from qml.federated.deployment import run_deployment

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    cfg = FedConfig(**SMALL, rounds=2, round_timeout=120.0, out_dir=str(tmp_path))
    metrics = run_deployment(cfg, timeout=400)
    acc = [h["test_accuracy"] for h in metrics["history"]]
    assert metrics["engine"] == "deployment" and metrics["rounds_done"] == 2
    assert acc[-1] > acc[0] + 0.2
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["test_accuracy"] == metrics["test_accuracy"]
    logs = {p.name for p in (tmp_path / "flower").iterdir()}
    assert {"superlink.log", "supernode-0.log", "supernode-2.log", "flwr-run.log"} <= logs
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before and p.is_running()]
    assert not [p for p in left if p.status() != psutil.STATUS_ZOMBIE]
