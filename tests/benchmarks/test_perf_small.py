"""benchmarks/perf_small.py on a tiny setting (ketml and PennyLane in process: the peer venvs
are not built here) and the peer-worker protocol of benchmarks/peer_envs.py, with a stand-in
worker in ketml's own Python."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks import peer_envs, perf_small
from benchmarks.harness import PeerUnavailable


def test_perf_small_tiny(tmp_path):
    argv = ["--qubits", "2", "3", "--batch", "4", "--repeats", "2", "--peers", "ketml", "pennylane"]
    argv += ["--scaling-qubits", "2", "3", "--batch-sweep", "2", "4", "--batch-sweep-qubits", "2"]
    argv += ["--scaling-repeats", "1", "--out", str(tmp_path)]
    assert perf_small.main(argv) == 0
    result = json.loads((tmp_path / "perf_small.json").read_text())
    assert [e["n"] for e in result["table"]] == [2, 3]
    for entry in result["table"]:
        ketml, pl = entry["peers"]["ketml"], entry["peers"]["pennylane"]
        assert ketml["status"] == pl["status"] == "ok"
        # 2 rounds x (block of 4 steps, the first untimed)
        assert len(ketml["times_s"]) == 2 * 3 and ketml["ratio_to_ketml"] == pytest.approx(1.0)
        assert pl["max_abs_diff_out"] < 1e-6 and pl["max_abs_diff_grad"] < 1e-5
        assert pl["ratio_to_ketml"] == pytest.approx(pl["median_s"] / ketml["median_s"])
    assert [e["batch"] for e in result["scaling_batch"]] == [2, 4]
    assert result["targets"] == []  # n=4 and 8 not in this run
    assert len(result["load_average"]["start"]) == 3 and result["command"].startswith(
        "benchmarks/perf_small.py"
    )
    md = (tmp_path / "perf_small.md").read_text()
    assert "| 2 |" in md and "TensorCircuit-NG" in md
    assert (tmp_path / "perf_small.png").stat().st_size > 10_000


def test_targets_need_ten_times_pennylane_and_faster_than_tensorcircuit():
    table = [
        {"n": 4, "peers": {"pennylane": {"ratio_to_ketml": 12.0}, "tensorcircuit": {"ratio_to_ketml": 0.9}}},
        {"n": 12, "peers": {"pennylane": {"ratio_to_ketml": 2.0}}},
    ]
    got = {(t["n"], t["peer"]): t["met"] for t in perf_small.targets(table)}
    assert got == {(4, "pennylane"): True, (4, "tensorcircuit"): False}


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """A worker that runs in this interpreter: 'setup' echoes n, 'step' sleeps ``n`` ms,
    n < 0 raises."""
    script = tmp_path / "echo_worker.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(peer_envs.WORKERS)!r})
            from protocol import serve

            def setup(req):
                if req["n"] < 0:
                    raise ValueError("negative n")
                return {{"n": req["n"]}}, lambda: (time.sleep(req["n"] / 1000), req["n"] / 1000)[1]

            serve(setup)
            """
        )
    )
    env = peer_envs.PeerEnv("echo", "Echo", (), str(script))
    monkeypatch.setattr(peer_envs, "ensure_env", lambda name: env)
    monkeypatch.setattr(peer_envs.PeerEnv, "python", property(lambda self: Path(sys.executable)))
    return env


def test_worker_protocol(stand_in):
    proc = peer_envs.PeerProcess("echo", threads=1)
    try:
        assert proc.request({"cmd": "setup", "n": 3}, 60)["n"] == 3
        assert proc.request({"cmd": "step"}, 60)["seconds"] == pytest.approx(0.003)
        with pytest.raises(PeerUnavailable, match="failed: Echo: ValueError: negative n"):
            proc.request({"cmd": "setup", "n": -1}, 60)
        proc.request({"cmd": "setup", "n": 3000}, 60)
        with pytest.raises(PeerUnavailable, match="timeout"):
            proc.request({"cmd": "step"}, 0.5)  # the worker is killed
        assert proc.proc.poll() is not None
    finally:
        proc.close()


def test_missing_env_is_not_ready(tmp_path, monkeypatch):
    monkeypatch.setattr(peer_envs, "ENVS", tmp_path)
    assert not peer_envs.is_ready(peer_envs.PEER_ENVS["tensorcircuit"])
