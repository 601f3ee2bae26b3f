"""The model-family extension point: a model defined and registered here, in a test module (not
a ketml file), trains through ``ketml train`` and through the library; a model family in another
package is found through the ``ketml.models`` entry point; unknown names list the known ones."""

from __future__ import annotations

import importlib.metadata
import json
import math
import sys

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from circuits.errors import ConfigurationError, UnknownNameError
from qml import registry
from qml.cli import app
from qml.registry import Preset, register_model, register_task
from qml.training.experiment import evaluate_run, train
from qml.training.runs import save_torch, write_json
from qml.training.task import Prepared, Task

TOY = "toy-2q"


@register_model(
    TOY,
    tasks=("image-classification",),
    description="test model: linear -> 2-qubit circuit (RY encoding, one entangling layer) -> linear",
    defaults={"epochs": 4, "batch_size": 32, "lr": 0.05, "val_fraction": 0.1},
    presets={"digits": Preset(options={"hidden": 2}, data={"image_size": 8})},
)
class Toy2Q(nn.Module):
    """Image -> 2 angles -> a 2-qubit circuit's <Z> per qubit, beside a linear skip -> logits."""

    def __init__(
        self, n_classes: int, in_channels: int, image_size: int, *, hidden: int = 2, engine: str = "torch"
    ):
        super().__init__()
        from circuits import QuantumLayer
        from circuits.library import angle_encoding, strongly_entangling_layers

        n_in = in_channels * image_size**2
        self.angles = nn.Linear(n_in, hidden)
        circuit = angle_encoding(hidden, "Y").compose(strongly_entangling_layers(hidden, 1))
        self.quantum = QuantumLayer(circuit, ["IZ", "ZI"], engine=engine)
        self.skip = nn.Linear(n_in, n_classes)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        flat = images.flatten(1)
        return self.skip(flat) + self.head(self.quantum(self.angles(flat)))


def _check_run(run_dir, n_train_max: int) -> dict:
    assert (run_dir / "run.json").is_file() and (run_dir / "model.pt").is_file()
    assert (run_dir / "curves.png").read_bytes()[:4] == b"\x89PNG"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["model"] == TOY and metrics["dataset"] == "digits"
    assert metrics["n_train"] <= n_train_max and metrics["n_quantum_parameters"] == 2 * 3
    assert math.isfinite(metrics["test_loss"])
    assert metrics["test_accuracy"] > 0.5  # ten classes: chance is 0.1
    return metrics


def test_toy_model_is_registered_with_its_task():
    spec = registry.get(TOY)
    assert TOY in registry.names() and spec.tasks == ("image-classification",)
    assert registry.task_for("digits", spec).name == "image-classification"
    dims = {"n_classes": 10, "in_channels": 1, "image_size": 8, "dataset": "digits"}
    net = spec.build(dims, engine="torch")
    assert net(torch.rand(3, 1, 8, 8)).shape == (3, 10)
    with pytest.raises(ConfigurationError, match="already registered"):
        register_model(TOY, tasks=("image-classification",))(Toy2Q)


def test_toy_model_trains_with_ketml_train(tmp_path):
    args = ["train", TOY, "--dataset", "digits", "--subset", "300", "--seed", "1", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "test accuracy" in result.stdout
    (run_dir,) = tmp_path.iterdir()
    assert run_dir.name.startswith(f"{TOY}-digits-")
    metrics = _check_run(run_dir, 300)
    assert metrics["epochs"] == 4 and metrics["n_val"] == 30
    saved = json.loads((run_dir / "run.json").read_text())
    assert saved["task"] == "image-classification" and saved["info"]["image_size"] == 8  # the preset's
    # the run is a full ketml run: ketml evaluate rebuilds the model from the registry
    entry = evaluate_run(run_dir, progress=False)
    assert entry["clean_accuracy"] == pytest.approx(metrics["test_accuracy"])


def test_toy_model_trains_through_the_library(tmp_path):
    run_dir, metrics = train(
        TOY, "digits", out=tmp_path, subset=200, seed=0, progress=False, epochs=3, model_options={"hidden": 2}
    )
    written = _check_run(run_dir, 200)
    assert written["test_accuracy"] == metrics["test_accuracy"] and metrics["epochs"] == 3
    # resuming continues the same run
    run_dir, more = train(None, resume=run_dir, epochs=4, progress=False)
    assert more["epochs"] == 4 and more["history"]["train_loss"][:3] == metrics["history"]["train_loss"]


def test_wrong_task_and_unknown_names_are_clear_errors(tmp_path):
    with pytest.raises(ConfigurationError, match=f"{TOY} does not take time series datasets.*regression"):
        train(TOY, "damped-shm", out=tmp_path, progress=False)
    with pytest.raises(UnknownNameError, match="unknown model 'no-such'.*toy-2q"):
        registry.get("no-such")
    with pytest.raises(UnknownNameError, match="unknown dataset 'no-such-set'"):
        train(TOY, "no-such-set", out=tmp_path, progress=False)
    assert not list(tmp_path.iterdir())


def test_entry_point_in_ketml_models_is_honoured(monkeypatch):
    plugin = "tests.training.toy_family"
    sys.modules.pop(plugin, None)
    ep = importlib.metadata.EntryPoint(name="toy", value=plugin, group=registry.ENTRY_POINT_GROUP)
    seen = []

    def entry_points(**params):
        seen.append(params.get("group"))
        return [ep] if params.get("group") == registry.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(registry, "_LOADED", False)  # the next lookup discovers the families again
    models = {k: v for k, v in registry._MODELS.items() if k != "toy-plugin"}  # if collection imported it
    monkeypatch.setattr(registry, "_MODELS", models)  # leave the real registry as it was
    spec = registry.get("toy-plugin")
    assert registry.ENTRY_POINT_GROUP in seen and plugin in sys.modules
    assert spec.tasks == ("image-classification",) and spec.quantum is False
    net = spec.build({"n_classes": 10, "in_channels": 1, "image_size": 8}, engine="torch")
    assert net(torch.rand(2, 1, 8, 8)).shape == (2, 10)


class ToyReadout(Task):
    """A task whose fit is no epoch loop (as a reservoir's ridge readout): least squares on windows."""

    name = "toy-readout"
    kind = "time series"
    metric = "test_mse"
    metric_label = "test MSE"

    def load(self, dataset, *, seed=0, subset=None, test_subset=None, data_root=None):
        from qml.sequence.tasks import regression_data

        train, test = regression_data(dataset, seed=seed)
        return Prepared(train, None, test, {"input_size": train[0].shape[1]})

    def fit(self, model, prepared, config, *, out_dir, title, progress, resume, extra):
        (x, y), (x_test, y_test) = prepared.train, prepared.test
        with torch.no_grad():
            solution = torch.linalg.lstsq(x.flatten(1), y).solution
            model.readout.weight.copy_(solution.T)
            test_mse = float(((model(x_test) - y_test) ** 2).mean())
        save_torch(out_dir / "model.pt", model.state_dict())
        metrics = {**extra, "n_parameters": 4, "test_mse": test_mse, "train_seconds": 0.0}
        write_json(out_dir / "metrics.json", metrics)
        return metrics


register_task(ToyReadout())


@register_model("toy-ridge", tasks=("toy-readout",), quantum=False, description="linear readout")
class ToyRidge(nn.Module):
    def __init__(self, input_size: int):
        super().__init__()
        self.readout = nn.Linear(input_size, 1, bias=False, dtype=torch.float64)

    def forward(self, x):
        return self.readout(x.flatten(1))


def test_a_new_task_with_its_own_fit(tmp_path):
    """A family that brings a task: its datasets come from the data catalogue's kind, its model is
    built from the task's dims, its fit is its own; qfwp on the same dataset keeps its own task."""
    assert registry.task_for("damped-shm", registry.get("toy-ridge")).name == "toy-readout"
    assert registry.task_for("damped-shm", registry.get("qfwp")).name == "regression"
    run_dir, metrics = train("toy-ridge", "damped-shm", out=tmp_path, progress=False)
    assert json.loads((run_dir / "run.json").read_text())["task"] == "toy-readout"
    assert 0 <= metrics["test_mse"] < 0.05  # the damped pendulum is nearly linear step to step
    result = CliRunner().invoke(app, ["train", "toy-ridge", "-d", "damped-shm", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "test MSE" in result.stdout
