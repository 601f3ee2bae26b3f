"""``benchmarks/rl_fast_weights.py``: the fast-weight probe of a trained QFWP agent."""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("gymnasium")


def test_probe_reports_update_and_angle_sizes_and_sees_larger_heads(tmp_path):
    """On a short QFWP run the probe writes both rows; scaling the slow programmer's heads up
    (what training did to the collapsed CartPole agent) makes the updates grow quadratically."""
    from benchmarks import rl_fast_weights
    from qml.training.experiment import train

    torch.manual_seed(0)
    run, _ = train("qfwp", "cartpole", out=tmp_path / "runs", epochs=2, progress=False)
    rl_fast_weights.main(["--run", str(run), "--episodes", "3", "--out", str(tmp_path / "a")])
    rows = json.loads((tmp_path / "a" / "rl_fast_weights.json").read_text())["rows"]
    assert set(rows) == {"trained (final weights)", "fresh initialisation"}
    for row in rows.values():
        update, angle = row["update_max_abs_median_p90"], row["angle_max_abs_median_p90"]
        assert 0 < update[0] <= update[1] and 0 < angle[0] <= angle[1]
        assert 0 <= row["entropy_median"] <= 0.6932  # two actions: at most ln 2
    small = rows["trained (final weights)"]["update_max_abs_median_p90"][0]

    weights = torch.load(run / "model.pt", weights_only=True)
    for key in ("core.layer_head.weight", "core.qubit_head.weight"):
        weights[key] = weights[key] * 10
    torch.save(weights, run / "model.pt")
    rl_fast_weights.main(["--run", str(run), "--episodes", "3", "--out", str(tmp_path / "b")])
    big = json.loads((tmp_path / "b" / "rl_fast_weights.json").read_text())["rows"]
    assert big["trained (final weights)"]["update_max_abs_median_p90"][0] > 10 * small
