"""``ketml train qnlp`` and ``ketml predict``: a short MC run through the shared trainer, then
class probabilities of new sentences from its folder, and one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qml.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def mc_run(tmp_path_factory):
    from tests.qnlp.conftest import SHARED

    if not (SHARED / "lambeq-qnlp" / "mc_train_data.txt").is_file():
        pytest.skip(f"no shared lambeq-qnlp copy under {SHARED}")
    out = tmp_path_factory.mktemp("runs")
    args = ["train", "qnlp", "--dataset", "mc", "--epochs", "15", "--out", str(out), "--no-progress"]
    result = runner.invoke(app, [*args, "--ansatz", "iqp", "--layers", "1"], env={"KETML_DATA": str(SHARED)})
    assert result.exit_code == 0, result.output
    assert "test accuracy" in result.stdout
    (run_dir,) = out.iterdir()
    return run_dir


def test_the_run_records_the_functor_settings_and_learns(mc_run):
    saved = json.loads((mc_run / "run.json").read_text())
    assert saved["task"] == "qnlp" and saved["model_options"]["ansatz"] == "iqp"
    assert len(saved["info"]["sentences"]) == 130
    metrics = json.loads((mc_run / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.8  # chance is 0.5; MC is easy with grammar
    assert (mc_run / "confusion.png").is_file()


def test_predict_gives_class_probabilities_of_new_sentences(mc_run):
    result = runner.invoke(
        app, ["predict", str(mc_run), "woman cooks tasty sauce .", "man debugs useful program .", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["prediction"] for r in rows] == ["food", "IT"]
    for r in rows:
        assert abs(sum(r["probabilities"].values()) - 1) < 1e-5


def test_unknown_words_and_missing_models_are_one_line_errors(mc_run, monkeypatch, tmp_path):
    result = runner.invoke(app, ["predict", str(mc_run), "woman cooks tasty pasta ."])
    assert result.exit_code == 2
    assert (
        "ketml: error:" in result.output and "'pasta'" in result.output and "--unknown unk" in result.output
    )
    from tests.qnlp.conftest import SHARED

    monkeypatch.setenv("KETML_DATA", str(SHARED))
    monkeypatch.setenv("KETML_BOBCAT_MODEL", str(tmp_path / "absent"))
    result = runner.invoke(
        app,
        ["train", "qnlp", "--dataset", "mc", "--reader", "bobcat", "--out", str(tmp_path), "--no-progress"],
    )
    assert result.exit_code == 2 and "Bobcat model" in result.output and "--reader pregroup" in result.output
