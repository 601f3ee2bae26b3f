"""The digits demo (quick setting: a preset of ``ketml train``), its CLI command, and the README's
code example."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from typer.testing import CliRunner

from qml import demo
from qml.cli import app

ROOT = Path(__file__).resolve().parents[1]
CURVES = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


def _check_run_dir(run_dir: Path, epochs: int) -> dict:
    assert run_dir.is_dir() and run_dir.name.startswith("demo-")
    for name in ("curves.png", "confusion.png"):
        png = run_dir / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 5000
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("test_accuracy", "n_parameters", "epochs", "seconds_per_epoch", "engine", "seed"):
        assert key in metrics, key
    assert metrics["epochs"] == epochs and metrics["model"] == demo.MODEL and metrics["dataset"] == "digits"
    for key in CURVES:
        assert len(metrics["history"][key]) == epochs, key
        assert all(math.isfinite(v) for v in metrics["history"][key])
    run = json.loads((run_dir / "run.json").read_text())  # a ketml train run: resumable, evaluable
    assert run["model"] == demo.MODEL and run["data_options"]["image_size"] == 8
    assert run["info"]["image_size"] == 8 and run["config"]["scheduler"] == "cosine"
    return metrics


def test_quick_demo_writes_metrics_and_plot(tmp_path):
    metrics = demo.run(quick=True, seed=0, out=tmp_path, progress=False, verbose=False)
    run_dir = Path(metrics["run_dir"])
    assert run_dir.parent == tmp_path
    written = _check_run_dir(run_dir, demo.QUICK["epochs"])
    acc = written["test_accuracy"]
    assert isinstance(acc, float) and 0.0 <= acc <= 1.0
    assert acc > 0.25  # ten classes: chance is 0.1
    assert written["test_accuracy"] == metrics["test_accuracy"]
    assert written["engine"] == "torch" and written["seed"] == 0 and written["quick"] is True
    assert written["n_parameters"] > written["n_quantum_parameters"] > 0
    assert written["seconds_per_epoch"] > 0
    # training makes progress on the training set
    assert written["history"]["train_loss"][-1] < written["history"]["train_loss"][0]
    assert written["n_train"] == 350 and written["n_val"] == 50 and written["n_test"] == 100

    # the CLI runs the same pipeline; the seed makes it reproducible
    result = CliRunner().invoke(
        app, ["demo", "--quick", "--seed", "0", "--out", str(tmp_path), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "test accuracy" in result.stdout
    runs = sorted(p for p in tmp_path.iterdir() if p.name.startswith("demo-"))
    assert len(runs) == 2
    again = _check_run_dir(runs[1] if runs[0] == run_dir else runs[0], demo.QUICK["epochs"])
    assert again["test_accuracy"] == written["test_accuracy"]
    assert again["history"]["train_loss"] == written["history"]["train_loss"]


def test_demo_rejects_bad_settings(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--qubits", "12", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert not list(tmp_path.iterdir())


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    assert "make demo" in text and "make test" in text
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "README.md has no python example"
    namespace: dict = {}
    for block in blocks:  # in order, in one namespace, as a reader would paste them
        exec(compile(block, "README.md", "exec"), namespace)
    assert math.isfinite(namespace["loss"].item())
    assert len(namespace.get("energies", [])) == len(namespace.get("candidates", [None]))
