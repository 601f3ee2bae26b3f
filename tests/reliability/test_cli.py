"""``ketml train`` / ``evaluate`` / ``chem`` under bad input: one line ``ketml: error: ...`` (exit
2) before any work or any run folder, close names suggested; Ctrl-C says how to resume."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch

from qml.training.config import OPTIMIZERS, SCHEDULERS
from tests.cli.test_run import app, runner
from tests.reliability.test_runs import TINY, _interrupt_at

TRAIN = ["train", TINY, "-d", "digits", "--subset", "160", "--test-subset", "40", "--no-progress"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    text = result.stderr.strip()
    assert text.startswith("ketml: error:") or "Error" in text, text
    assert "Traceback" not in result.output and len(text.splitlines()) <= 6, text
    for needle in needles:
        assert needle in text, (needle, text)
    return text


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--engine", "nope"], ["unknown engine 'nope'", "torch", "aer"]),
        (["--engine", "torhc"], ["did you mean 'torch'"]),
        (["-O", "hiden=4"], ["has no option 'hiden'", "did you mean hidden"]),
        (
            ["-O", "hidden=four"],
            ["option hidden of reliability-linear takes a number (default 8), got 'four'"],
        ),
        (["--device", "cuda:99"], ["cuda:99"]),
        (["--device", "tpu"], ["'tpu'"]),
        (["--optimizer", "lbfgs"], ["lbfgs", *OPTIMIZERS]),
        (["--scheduler", "linear"], ["linear", "cosine-restarts"]),
        (["--augment", "flip"], ["flip", "affine"]),
        (["-d", "fashion-mnst"], ["fashion-mnst"]),
    ],
)
def test_bad_train_options_fail_before_any_run_folder(tmp_path, args, needles):
    result = invoke(*TRAIN, *args, "--out", tmp_path / "runs")
    one_line_error(result, *needles)
    assert not (tmp_path / "runs").exists()  # nothing made, nothing recorded


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without a GPU")
def test_cuda_device_without_a_gpu_is_one_line(tmp_path):
    result = invoke(*TRAIN, "--device", "cuda", "--out", tmp_path / "runs")
    one_line_error(result, "torch sees no CUDA GPU", "use cpu")
    assert not (tmp_path / "runs").exists()


def test_out_pointing_at_a_file_is_refused_and_the_file_kept(tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("mine")
    one_line_error(invoke(*TRAIN, "--out", target), f"--out {target} is a file")
    one_line_error(invoke(*TRAIN, "--out", target / "sub"), f"{target} is a file")
    assert target.read_text() == "mine"


def test_help_lists_exactly_the_choices_that_are_accepted():
    result = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "300"})
    text = " ".join(result.stdout.split())
    for name in (*OPTIMIZERS, *SCHEDULERS):
        assert name in text
    assert f"[{'|'.join(OPTIMIZERS)}]" in text


def test_resume_with_a_conflicting_dataset_names_it(tmp_path):
    assert invoke(*TRAIN, "--epochs", "1", "--out", tmp_path).exit_code == 0
    (run,) = tmp_path.iterdir()
    result = invoke("train", "--resume", run, "--dataset", "fashion-mnist", "--no-progress")
    one_line_error(result, "dataset (run: digits, given: fashion-mnist)", "train a new run")
    result = invoke("train", "--resume", run, "--engine", "nope", "--no-progress")
    one_line_error(result, "engine (run: torch, given: nope)")
    result = invoke("train", "--resume", run, "--out", tmp_path / "x", "--no-progress")
    one_line_error(result, "out (does not apply when resuming)")
    # the same dataset, given explicitly, is not a conflict; epochs extend the constant schedule
    result = invoke("train", "--resume", run, "--dataset", "digits", "--epochs", "2", "--no-progress")
    assert result.exit_code == 0, result.output
    assert json.loads((run / "run.json").read_text())["config"]["epochs"] == 2


def test_ctrl_c_says_how_to_resume_and_the_resume_works(tmp_path, monkeypatch):
    _interrupt_at(monkeypatch, 2)
    result = invoke(*TRAIN, "--epochs", "3", "--out", tmp_path)
    assert result.exit_code == 130, result.output
    (run,) = tmp_path.iterdir()
    assert f"ketml train --resume {run}" in result.stderr and "holds epoch 1" in result.stderr
    monkeypatch.undo()
    result = invoke("train", "--resume", run, "--no-progress")
    assert result.exit_code == 0, result.output
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 3


def test_corrupt_checkpoint_on_resume_is_one_line(tmp_path):
    assert invoke(*TRAIN, "--epochs", "1", "--out", tmp_path).exit_code == 0
    (run,) = tmp_path.iterdir()
    (run / "checkpoint.pt").write_bytes(b"PK\x03\x04 truncated")
    text = one_line_error(invoke("train", "--resume", run, "--epochs", "2"), str(run / "checkpoint.pt"))
    assert "weights_only=False" not in text
    (run / "model.pt").write_bytes(b"")
    one_line_error(invoke("evaluate", run, "--no-progress"), str(run / "model.pt"), "corrupt")
    one_line_error(invoke("evaluate", run, "--device", "cuda:99"), "cuda:99")


def test_evaluate_sets_aside_an_evaluation_json_it_cannot_extend(tmp_path):
    assert invoke(*TRAIN, "--epochs", "1", "--out", tmp_path).exit_code == 0
    (run,) = tmp_path.iterdir()
    (run / "evaluation.json").write_text('{"mine": true}')
    result = invoke("evaluate", run, "--json", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "ketml: warning:" in result.stderr and "evaluation.unreadable-" in result.stderr
    assert json.loads((run / "evaluation.json").read_text()) == [json.loads(result.stdout)]
    (kept,) = run.glob("evaluation.unreadable-*.json")
    assert json.loads(kept.read_text()) == {"mine": True}


@pytest.mark.parametrize("command", ["vqe", "gqe", "auger"])
def test_chem_out_pointing_at_a_file_fails_before_the_work(tmp_path, command):
    target = tmp_path / "result.json"
    target.write_text("keep me")
    start = time.perf_counter()
    text = one_line_error(invoke("chem", command, "--out", target), f"--out {target} is a file")
    assert time.perf_counter() - start < 5  # refused before pyscf, VQE or GQE ran
    assert target.read_text() == "keep me" and "give a folder" in text


def test_chem_unknown_element_and_overlapping_atoms_are_one_line():
    pytest.importorskip("pyscf")
    one_line_error(
        invoke("chem", "molecule", "--molecule", "Xx 0 0 0; H 0 0 0.74"), "unknown element symbol 'Xx'"
    )
    text = one_line_error(
        invoke("chem", "molecule", "--molecule", "H 0 0 0; H 0 0 0.01"), "atoms 1 (H) and 2 (H)"
    )
    assert "singular" not in text


def test_engine_is_checked_by_chem_vqe_before_the_work(tmp_path):
    pytest.importorskip("pyscf")
    result = invoke("chem", "vqe", "--engine", "nope", "--out", tmp_path / "vqe")
    one_line_error(result, "unknown engine 'nope'")
    assert not (tmp_path / "vqe").exists()


def test_train_list_still_works_after_a_failed_run(tmp_path):
    one_line_error(invoke(*TRAIN, "--engine", "nope", "--out", tmp_path))
    result = invoke("train", "--list")
    assert result.exit_code == 0 and TINY in result.stdout


def test_out_default_folder_is_made_when_missing(tmp_path):
    out = tmp_path / "a" / "b"
    assert invoke(*TRAIN, "--epochs", "1", "--out", out).exit_code == 0
    assert len(list(Path(out).iterdir())) == 1


@pytest.mark.parametrize(
    "args, needles",
    [
        (
            ["hqnn-parallel", "-d", "digits", "-O", "n_layer=1"],
            ["no option 'n_layer'; did you mean n_layers"],
        ),
        (["hqnn-parallel", "-d", "digits", "-O", "n_layers=two"], ["takes a number", "got 'two'"]),
        (["qfwp", "-d", "damped-shm", "-O", "n_qbits=4"], ["qfwp has no option 'n_qbits'"]),
        (["qfwp", "-d", "damped-shm", "-O", "n_qubits='four'"], ["qfwp cannot be built with the options"]),
    ],
)
def test_model_options_of_other_models_are_checked(tmp_path, args, needles):
    text = one_line_error(invoke("train", *args, "--subset", "20", "--out", tmp_path / "runs"), *needles)
    assert "TorchEngine" not in text
    assert not (tmp_path / "runs").exists()
