"""``ketml train`` / ``ketml evaluate``: a short real run on digits, resume, attacks, sequence and
RL runs, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_run import invoke


def test_train_list_shows_every_registered_model():
    result = invoke("train", "--list")
    assert result.exit_code == 0, result.output
    for name in (
        "hqnn-parallel",
        "hqnn-quanv",
        "hybrid-cnn",
        "hqnn-parallel-classical",
        "hqnn-quanv-classical",
        "hybrid-cnn-classical",
    ):
        assert name in result.stdout


def test_train_help_lists_models_and_tasks_from_the_registry():
    from qml import registry
    from tests.cli.test_run import app, runner

    result = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "400"})  # wide: no wrapped names
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    datasets = [d for t in registry.task_names() for d in registry.get_task(t).datasets()]
    assert {"regression", "qrnn", "rl", "image-classification"} <= set(registry.task_names())
    assert {"damped-shm", "elman-xor", "cartpole", "fashion-mnist", "digits"} <= set(datasets)
    for name in (*registry.names(), *registry.task_names(), *datasets):
        assert name in text, name


def test_train_then_evaluate_on_digits(tmp_path):
    result = invoke(
        "train",
        "hqnn-parallel",
        "--dataset",
        "digits",
        "--epochs",
        "3",
        "--subset",
        "400",
        "--batch-size",
        "16",
        "--lr",
        "0.003",
        "--seed",
        "3",
        "--out",
        tmp_path,
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert run.name.startswith("hqnn-parallel-digits-")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and metrics["n_train"] == 360 and metrics["n_quantum_parameters"] == 180
    assert metrics["test_accuracy"] > 0.3  # ten classes: chance is 0.1
    assert {"curves.png", "confusion.png", "model.pt", "checkpoint.pt", "run.json"} <= {
        p.name for p in run.iterdir()
    }

    result = invoke("evaluate", run, "--attack", "fgsm", "--eps", "0.1", "--json", "--no-progress")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)
    assert entry["clean_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert entry["robust_accuracy"] <= entry["clean_accuracy"]
    result = invoke("evaluate", run, "--attack", "pgd-paper", "--steps", "2", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "robust accuracy" in result.stdout
    assert len(json.loads((run / "evaluation.json").read_text())) == 2

    # its cosine schedule is planned for 3 epochs: resuming with more is refused, not restarted
    # (extending runs exactly: tests/reliability/test_runs.py)
    result = invoke("train", "--resume", run, "--epochs", "4", "--no-progress")
    assert result.exit_code == 2 and "cosine learning-rate schedule is planned for its 3" in result.stderr
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 3


def test_train_classical_twin_with_model_option(tmp_path):
    result = invoke(
        "train",
        "hqnn-quanv-classical",
        "-d",
        "digits",
        "--epochs",
        "1",
        "--subset",
        "120",
        "-O",
        "channels=2",
        "--out",
        tmp_path,
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    (run,) = list(tmp_path.iterdir())
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_quantum_parameters"] == 0
    assert metrics["n_parameters"] == 2 * 16 + 2 + 98 * 10 + 10

    # a run.json written before tasks were recorded (no "task", no "data_options") still evaluates
    # and resumes: the task comes from the dataset
    saved = json.loads((run / "run.json").read_text())
    assert saved.pop("task") == "image-classification" and saved.pop("data_options") == {}
    (run / "run.json").write_text(json.dumps(saved))
    result = invoke("evaluate", run, "--json", "--no-progress")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["clean_accuracy"] == pytest.approx(metrics["test_accuracy"])
    result = invoke("train", "--resume", run, "--epochs", "2", "--no-progress")
    assert result.exit_code == 0, result.output
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "no-such-model", "-d", "digits"], "unknown model 'no-such-model'"),
        (["train", "hqnn-quanv", "-d", "no-such-set"], "no-such-set"),
        (["train", "hqnn-quanv", "-d", "digits", "--optimizer", "lbfgs"], "optimizer"),
        (["train"], "name a model"),
        (["evaluate", "/nonexistent/run"], "not a ketml run folder"),
        (["train", "hqnn-quanv", "-d", "digits", "-O", "bad option"], "name=value"),
    ],
)
def test_errors_are_one_line(args, message, tmp_path):
    result = invoke(*args, "--out", tmp_path) if args[0] == "train" and len(args) > 1 else invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr


def test_missing_dataset_files_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("KETML_DATA", str(tmp_path / "data"))
    import urllib.error
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    result = invoke(
        "train", "hqnn-parallel", "-d", "mnist", "--epochs", "1", "--out", tmp_path, "--no-progress"
    )
    assert result.exit_code == 2, result.output
    assert str(tmp_path / "data" / "mnist") in result.stderr
    assert "train-images-idx3-ubyte.gz" in result.stderr


def test_train_sequence_models_from_the_cli(tmp_path):
    result = invoke(
        "train",
        "qrnn",
        "-d",
        "elman-xor",
        "--epochs",
        "2",
        "--subset",
        "16",
        "-O",
        "workspace=2",
        "-O",
        "stages=1",
        "-O",
        "degree=2",
        "--out",
        tmp_path,
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    assert "test accuracy" in result.stdout
    (run,) = [p for p in tmp_path.iterdir() if p.name.startswith("qrnn-elman-xor")]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and 0 <= metrics["test_accuracy"] <= 1
    assert len(metrics["history"]["min_postselection_prob"]) == 2 and (run / "postselection.png").is_file()
    assert json.loads((run / "run.json").read_text())["model_options"]["workspace"] == 2

    result = invoke(
        "train",
        "qfwp",
        "-d",
        "damped-shm",
        "--epochs",
        "2",
        "-O",
        "n_qubits=4",
        "-O",
        "a_dim=2",
        "--out",
        tmp_path,
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    assert "test MSE" in result.stdout
    (run,) = [p for p in tmp_path.iterdir() if p.name.startswith("qfwp-damped-shm")]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_mse"] < 1.0 and (run / "prediction.png").is_file()
    result = invoke("train", "--resume", run, "--epochs", "3", "--no-progress")
    assert result.exit_code == 0, result.output
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 3

    result = invoke("train", "qrnn", "-d", "damped-shm", "--out", tmp_path)
    assert result.exit_code == 2 and "qrnn does not take time series datasets" in result.stderr
    result = invoke("train", "qfwp", "-d", "no-such-series", "--out", tmp_path)
    assert result.exit_code == 2 and "unknown dataset 'no-such-series'" in result.stderr
    result = invoke("evaluate", run)
    assert result.exit_code == 2 and "image classifiers" in result.stderr


def test_train_rl_from_the_cli(tmp_path):
    pytest.importorskip("gymnasium")
    result = invoke("train", "qfwp", "-d", "cartpole", "--epochs", "2", "--out", tmp_path, "--no-progress")
    assert result.exit_code == 0, result.output
    assert "mean return" in result.stdout
    (run,) = list(tmp_path.iterdir())
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["episodes"] == 2 and metrics["mean_return"] >= 8 and (run / "returns.png").is_file()


SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_data_options_override_the_preset_and_model_flags_reach_the_model(tmp_path, monkeypatch):
    """``-D`` reaches the task over the preset (corrosion's preset horizon is 4); the flags that
    onion-qrc declares (``ModelSpec.cli_options``) become its model options."""
    pytest.importorskip("reservoirpy")
    if not (SHARED_DATA / "corrosion").is_dir():
        pytest.skip("the shared corrosion tables are not here")
    monkeypatch.setenv("KETML_DATA", str(SHARED_DATA))
    args = ["--out", tmp_path, "--no-progress", "-D", "n_points=400", "-D", "washout=20"]
    result = invoke("train", "onion-qrc", "-d", "corrosion", "--reservoirs", "2", "--qubits=3", *args)
    assert result.exit_code == 0, result.output
    (run,) = tmp_path.iterdir()
    saved = json.loads((run / "run.json").read_text())
    assert saved["data_options"] == {"horizon": 4, "n_points": 400, "washout": 20}  # the preset's
    assert saved["model_options"] == {"reservoirs": 2, "qubits": 3}
    n_inputs = saved["info"]["n_inputs"]  # the input skip: weather, deposition and observed loss
    assert json.loads((run / "metrics.json").read_text())["n_features"] == 2 * (3 + 3) + n_inputs
    out = tmp_path / "override"
    result = invoke(
        "train",
        "onion-qrc",
        "-d",
        "corrosion",
        "-D",
        "horizon=2",
        "--shots",
        "50",
        "--classical-layer",
        *args[2:],
        "--out",
        out,
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    (run,) = out.iterdir()
    saved = json.loads((run / "run.json").read_text())
    assert saved["data_options"]["horizon"] == 2 and saved["horizon"] == 2  # the task loaded h=2
    assert saved["model_options"] == {"shots": 50, "classical_layer": True}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bogus", "3"], "unknown option '--bogus' for onion-qrc (its own flags: --reservoirs, --qubits"),
        (["--qubits", "three"], "--qubits needs a value of type int, got 'three'"),
        (["--classical-layer=1"], "--classical-layer takes no value"),
        (["stray"], "unknown argument 'stray'"),
        (["-D", "horizon"], "--data-option 'horizon': write name=value"),
    ],
)
def test_model_flags_and_data_options_errors_are_one_line(args, message, tmp_path):
    result = invoke("train", "onion-qrc", "-d", "narma10", *args, "--out", tmp_path)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # refused before any run folder was made


def test_train_model_help_lists_its_own_flags():
    from tests.cli.test_run import app, runner

    result = runner.invoke(app, ["train", "onion-qrc", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for flag in (
        "--reservoirs INT",
        "--qubits INT",
        "--measurements INT",
        "--shots INT",
        "--classical-layer",
    ):
        assert flag in result.stdout
    assert "--data-option" in result.stdout and "Options of onion-qrc" in result.stdout
    plain = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    assert "--reservoirs" not in plain.stdout  # only the named model's flags


def test_option_values_are_literals_and_true_false_are_booleans():
    """``-D flag=false`` must be False, not the truthy string 'false'."""
    from qml.cli.train import _model_options

    got = _model_options(["a=3", "b=0.5", "c=[1, 2]", "d=false", "e=TRUE", "f=True", "g=word"])
    assert got == {"a": 3, "b": 0.5, "c": [1, 2], "d": False, "e": True, "f": True, "g": "word"}
    assert got["d"] is False and got["e"] is True
