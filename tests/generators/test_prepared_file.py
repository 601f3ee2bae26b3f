"""Prepared data files (prepare once, train elsewhere) and finishing a run stopped for time, on the
tiny KetGPT setup with its grammar masks."""

from __future__ import annotations

import gzip
import json

import pytest
import torch

from circuits.errors import ConfigurationError, DataError
from qml.training.experiment import finish_stopped, train
from qml.training.optim import TrainingInterrupted
from qml.training.prepared_file import load_prepared, prepared_key, save_prepared

OPTIONS = {"grammar_weight": 1.0}


def _train(tmp_path, quick_root, prepared_file, **extra):
    return train(
        "ketgpt",
        "algorithm-circuits-quick",
        out=tmp_path / "runs",
        data_root=str(quick_root),
        progress=False,
        data_options={**OPTIONS, **extra.pop("data_options", {})},
        prepared_file=prepared_file,
        **{"epochs": 2, **extra},
    )


def test_a_prepared_file_trains_the_same_run_without_loading(tmp_path, quick_root, monkeypatch):
    from qml.generators.lm_task import CircuitLMTask

    file = tmp_path / "data.prep"
    assert _train(tmp_path, quick_root, file, prepare_only=True) == (None, {})
    assert file.is_file() and not (tmp_path / "runs").exists()  # prepare only: no run folder
    first_dir, first = _train(tmp_path, quick_root, file)

    def refuse(*args, **kwargs):
        raise AssertionError("task.load called although the prepared file holds the data")

    monkeypatch.setattr(CircuitLMTask, "load", refuse)
    # data_root differs (another machine): it is no part of the key
    second_dir, second = _train(tmp_path, tmp_path, file)
    assert first["history"]["val_loss"] == second["history"]["val_loss"]
    assert first["val_illegal_mass"] == second["val_illegal_mass"] > 0
    assert json.loads((second_dir / "run.json").read_text())["grammar_weight"] == 1.0

    with pytest.raises(ConfigurationError, match="block: file 128, run 64"):
        _train(tmp_path, quick_root, file, data_options={"block": 64})


def test_bad_prepared_files_are_named_errors(tmp_path, quick_root):
    key = prepared_key("circuit-lm", "algorithm-circuits-quick", seed=0, block=128)
    with pytest.raises(DataError, match="no prepared data file"):
        load_prepared(tmp_path / "missing.prep", key)
    junk = tmp_path / "junk.prep"
    junk.write_bytes(b"not a gzip file")
    with pytest.raises(DataError, match="not a readable prepared data file"):
        load_prepared(junk, key)
    other = tmp_path / "other.prep"
    with gzip.open(other, "wb") as f:
        f.write(b"\x80\x05N.")  # a pickled None
    with pytest.raises(DataError, match="not a ketml prepared data file"):
        load_prepared(other, key)
    with pytest.raises(ConfigurationError, match="prepare_only needs a prepared_file"):
        _train(tmp_path, quick_root, None, prepare_only=True)
    saved = save_prepared(tmp_path / "ok.prep", key, prepared={"x": 1})  # type: ignore[arg-type]
    assert load_prepared(saved, key) == {"x": 1} and not list(tmp_path.glob("*.part"))


def test_a_run_stopped_for_time_finishes_from_its_best_epoch(tmp_path, quick_root):
    file = tmp_path / "data.prep"
    run_dir, whole = _train(tmp_path, quick_root, file, epochs=3)
    (run_dir / "metrics.json").unlink()  # as if stopped after its last epoch, before the finish
    metrics = finish_stopped(run_dir, prepared_file=file)
    assert metrics["stopped_at_epoch"] == 3 and metrics["planned_epochs"] == 3
    assert metrics["best_epoch"] == whole["best_epoch"]
    assert metrics["test_loss"] == pytest.approx(whole["test_loss"], rel=1e-6)
    assert metrics["n_parameters"] == whole["n_parameters"]
    assert json.loads((run_dir / "metrics.json").read_text())["stopped_at_epoch"] == 3

    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    state["history"] = {}
    torch.save(state, run_dir / "checkpoint.pt")
    with pytest.raises(TrainingInterrupted, match="before its first epoch ended"):
        finish_stopped(run_dir, prepared_file=file)
