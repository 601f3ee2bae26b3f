"""benchmarks/repro_rl.py: an entry's run folder (finished or only checkpointed) becomes a row of
the summary and a learning curve; a finished entry is not trained again."""

from __future__ import annotations

import importlib
import json

import pytest

pytest.importorskip("minigrid")


def test_summary_reads_finished_and_checkpointed_runs(tmp_path, capsys):
    from qml.rl import A2CConfig, RecurrentActorCritic, train_a2c
    from qml.training.runs import load_torch, save_torch

    repro = importlib.import_module("benchmarks.repro_rl")
    runs = tmp_path / "runs"
    entry = "lstm-minigrid-empty-5x5"
    agent = RecurrentActorCritic("lstm", 147, 3)
    config = A2CConfig(episodes=3, eval_episodes=1)
    train_a2c(agent, "minigrid-empty-5x5", config, out_dir=runs / entry, progress=False)
    ckpt = load_torch(runs / entry / "checkpoint.pt", "cpu", "checkpoint")
    assert ckpt["epoch"] == 3 and len(ckpt["history"]["returns"]) == 3
    repro.run_entry(entry, "lstm", "minigrid-empty-5x5", 3, {}, runs, None)
    assert "finished earlier" in capsys.readouterr().out
    summary = repro.summarize(tmp_path, runs, ["cmd"])
    (row,) = summary["entries"]
    assert row["episodes"] == 3 and row["finished"] and row["mean_return"] is not None
    # a run stopped mid-way: only its checkpoint counts (metrics.json of fewer episodes is stale)
    ckpt["history"]["returns"] += [0.5, 0.5]
    save_torch(runs / entry / "checkpoint.pt", ckpt)
    (row,) = repro.summarize(tmp_path, runs, ["cmd"])["entries"]
    assert row["episodes"] == 5 and "finished" not in row
    md = (tmp_path / "repro_rl.md").read_text()
    assert "| lstm-minigrid-empty-5x5 | minigrid-empty-5x5 | 5 / 1500 |" in md and "not yet" in md
    assert (tmp_path / "repro_rl_minigrid-empty-5x5.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "repro_rl.json").read_text())["commands"] == ["cmd"]
