"""Run folders under faults: resume continues exactly or refuses what conflicts with the run;
Ctrl-C leaves a resumable run; corrupt run files are named with what to do; files the toolkit
owns are written atomically and nothing of the user's is overwritten."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from circuits.errors import ConfigurationError
from circuits.files import CorruptFileError, read_json, write_json
from qml import registry
from qml.registry import Preset, register_model
from qml.training import loop
from qml.training.experiment import evaluate_run, train
from qml.training.optim import TrainingInterrupted
from qml.training.runs import RunFileWarning, RunNotFoundError, append_json_list

TINY = "reliability-linear"


class TinyLinear(nn.Module):
    """A linear classifier with a small hidden layer: trains on 8x8 digits in a fraction of a second."""

    def __init__(self, n_classes: int, in_channels: int, image_size: int, hidden: int = 8):
        super().__init__()
        n_in = in_channels * image_size**2
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )

    def forward(self, x):
        return self.net(x)


if TINY not in registry.names():
    register_model(
        TINY,
        tasks=("image-classification",),
        description="test model of tests/reliability",
        quantum=False,
        defaults={"epochs": 3, "batch_size": 32, "lr": 0.02, "val_fraction": 0.1, "scheduler": "none"},
        presets={"digits": Preset(data={"image_size": 8})},
    )(TinyLinear)

FAST = {"subset": 160, "test_subset": 40, "progress": False}


def _train(tmp_path: Path, epochs: int, name: str, **kw):
    return train(TINY, "digits", out=tmp_path / name, epochs=epochs, **FAST, **kw)


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory) -> tuple[Path, dict]:
    """A finished one-epoch run, trained once for the module (tests work on copies)."""
    return _train(tmp_path_factory.mktemp("runs"), 1, "run")


@pytest.fixture
def run(one_epoch, tmp_path) -> Path:
    """A copy of the one-epoch run, for a test to damage."""
    return Path(shutil.copytree(one_epoch[0], tmp_path / "run"))


def _same(a: dict, b: dict) -> None:
    for key in ("train_loss", "val_accuracy", "lr"):
        assert a["history"][key] == pytest.approx(b["history"][key], abs=1e-6), key
    assert a["test_accuracy"] == b["test_accuracy"] and a["epochs"] == b["epochs"]


@pytest.mark.parametrize(
    "schedule",
    [
        {},
        pytest.param({"scheduler": "cosine-restarts"}, marks=pytest.mark.slow, id="cosine-restarts"),
    ],
    ids=["constant", "cosine-restarts"],
)
def test_three_epochs_then_resume_to_six_equals_six_straight(tmp_path, schedule):
    kw = {k: v for k, v in schedule.items() if v is not None}
    _, straight = _train(tmp_path, 6, "straight", **kw)
    run, first = _train(tmp_path, 3, "resumed", **kw)
    assert first["epochs"] == 3 and json.loads((run / "run.json").read_text())["config"]["epochs"] == 3
    _, resumed = train(None, resume=run, epochs=6, progress=False)
    _same(resumed, straight)
    saved = json.loads((run / "run.json").read_text())
    assert saved["config"]["epochs"] == 6 and saved["resumed"][-1]["epochs"] == 6  # run.json follows
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 6


def test_a_length_planned_schedule_is_not_restarted_by_more_epochs(tmp_path):
    run, six = _train(tmp_path, 6, "cosine", scheduler="cosine")
    lrs = six["history"]["lr"]
    assert all(b <= a for a, b in zip(lrs, lrs[1:], strict=False))  # never climbs back up
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.suffix == ".json"}
    with pytest.raises(ConfigurationError, match="cosine learning-rate schedule is planned for its 6 epochs"):
        train(None, resume=run, epochs=9, progress=False)
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.suffix == ".json"} == before  # untouched
    # the same epochs is fine: a finished run stays finished
    _, again = train(None, resume=run, epochs=6, progress=False)
    assert again["epochs"] == 6


def _interrupt_at(monkeypatch, epoch: int) -> None:
    """Ctrl-C during ``epoch`` (as the user pressing it mid-epoch)."""
    real = loop._epoch

    def epoch_or_interrupt(model, hooks, config, n, *args):
        if n == epoch:
            raise KeyboardInterrupt
        return real(model, hooks, config, n, *args)

    monkeypatch.setattr(loop, "_epoch", epoch_or_interrupt)


@pytest.mark.parametrize("stop_at", [1, pytest.param(4, marks=pytest.mark.slow)])
def test_ctrl_c_leaves_a_run_that_resumes_exactly(tmp_path, monkeypatch, stop_at):
    """A cosine 6-epoch run stopped by Ctrl-C (in its first epoch, or its fourth) and resumed
    equals the run trained straight through."""
    _, straight = _train(tmp_path, 6, "straight", scheduler="cosine")
    _interrupt_at(monkeypatch, stop_at)
    with pytest.raises(
        TrainingInterrupted, match=rf"holds epoch {stop_at - 1}: continue with 'ketml train --resume"
    ):
        _train(tmp_path, 6, "stopped", scheduler="cosine")
    monkeypatch.undo()
    (run,) = (tmp_path / "stopped").iterdir()
    assert (run / "checkpoint.pt").is_file() and not (run / "metrics.json").exists()
    _, resumed = train(None, resume=run, progress=False)
    _same(resumed, straight)


@pytest.mark.parametrize(
    "given, named",
    [
        ({"model": "hqnn-parallel"}, "model (run: reliability-linear, given: hqnn-parallel)"),
        ({"dataset": "fashion-mnist"}, "dataset (run: digits, given: fashion-mnist)"),
        ({"engine": "aer"}, "engine (run: torch, given: aer)"),
        ({"seed": 5}, "seed (run: 0, given: 5)"),
        ({"lr": 0.5}, "lr (run: 0.02, given: 0.5)"),
        ({"scheduler": "cosine"}, "scheduler (run: none, given: cosine)"),
        ({"subset": 50}, "subset (run: 160, given: 50)"),
        ({"model_options": {"hidden": 4}}, "model option hidden (run: unset, given: 4)"),
        ({"data_options": {"image_size": 28}}, "data option image_size (run: 8, given: 28)"),
        ({"out": Path("elsewhere")}, "out (does not apply when resuming)"),
    ],
)
def test_resume_refuses_options_that_conflict_with_the_run(run, given, named):
    before = (run / "run.json").read_bytes()
    model = given.pop("model", None)
    with pytest.raises(ConfigurationError, match="conflict") as err:
        train(model, resume=run, progress=False, **given)
    assert named in str(err.value)
    assert (run / "run.json").read_bytes() == before


def test_resume_accepts_options_equal_to_the_run(run):
    _, more = train(TINY, "digits", resume=run, epochs=2, seed=0, engine="torch", lr=0.02, progress=False)
    assert more["epochs"] == 2


def _corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"\x00not a file"}[how])


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage"])
@pytest.mark.parametrize("name", ["checkpoint.pt", "run.json"])
def test_corrupt_run_files_on_resume_are_named(run, name, how):
    _corrupt(run / name, how)
    with pytest.raises((CorruptFileError, RunNotFoundError)) as err:
        train(None, resume=run, epochs=2, progress=False)
    text = str(err.value)
    assert str(run / name) in text and "weights_only=False" not in text
    assert "backup" in text or "train the run again" in text


@pytest.mark.parametrize("name", ["model.pt", "run.json"])
def test_corrupt_run_files_on_evaluate_are_named(run, name):
    _corrupt(run / name, "truncated")
    with pytest.raises((CorruptFileError, RunNotFoundError)) as err:
        evaluate_run(run, progress=False)
    assert str(run / name) in str(err.value) and "weights_only=False" not in str(err.value)


def test_weights_of_another_model_and_a_wrong_run_json_are_named(run):
    torch.save({"net.0.weight": torch.zeros(2, 2)}, run / "model.pt")
    with pytest.raises(CorruptFileError, match="does not hold the weights of the model run.json describes"):
        evaluate_run(run, progress=False)
    write_json(run / "run.json", ["a", "list"])
    with pytest.raises(CorruptFileError, match="run.json holds list, not a JSON object"):
        evaluate_run(run, progress=False)
    write_json(run / "run.json", {"model": TINY})
    with pytest.raises(CorruptFileError, match="lacks dataset, engine, model_options, config"):
        train(None, resume=run, progress=False)


def test_resume_of_something_that_is_not_a_run(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunNotFoundError, match="is not a ketml run folder \\(it is a file\\)"):
        train(None, resume=tmp_path / "file", progress=False)
    with pytest.raises(RunNotFoundError, match="does not exist"):
        train(None, resume=tmp_path / "missing", progress=False)


@pytest.mark.parametrize(
    "content",
    ['{"note": "my own results"}', '[{"attack": "none"', "", "\xff\xfe"],
    ids=["object", "truncated", "empty", "binary"],
)
def test_evaluation_json_that_is_not_a_list_is_set_aside_not_lost(one_epoch, run, content):
    metrics = one_epoch[1]
    (run / "evaluation.json").write_bytes(content.encode("latin-1"))
    with pytest.warns(RunFileWarning, match="kept it as"):
        entry = evaluate_run(run, progress=False)
    assert entry["clean_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert read_json(run / "evaluation.json", list) == [entry]  # the new evaluation is kept
    (kept,) = run.glob("evaluation.unreadable-*.json")
    assert kept.read_bytes() == content.encode("latin-1")  # and so is what was there


def test_evaluation_json_list_is_appended(run):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RunFileWarning)
        first = evaluate_run(run, progress=False)
        second = evaluate_run(run, progress=False)
    assert read_json(run / "evaluation.json", list) == [first, second]


def test_atomic_json_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = write_json(tmp_path / "a.json", {"kept": 1})
    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})
    assert read_json(path) == {"kept": 1} and [p.name for p in tmp_path.iterdir()] == ["a.json"]
    append_json_list(tmp_path / "list.json", 1)
    append_json_list(tmp_path / "list.json", 2)
    assert read_json(tmp_path / "list.json", list) == [1, 2]
    with pytest.raises(CorruptFileError, match=r"a.json holds dict, not a JSON list; restore"):
        read_json(path, list, "restore it")
