"""``ketml generate dataset``: a tiny build, its resume, and bad input as one-line errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from qml.cli import app
from qml.generators.llm import read_records


def test_generate_dataset_builds_and_resumes(tmp_path):
    args = [
        "generate",
        "dataset",
        "--out",
        str(tmp_path),
        "--problems",
        "maxcut,matching",
        "--nodes",
        "3-4",
        "--instances",
        "1",
        "--qaoa-layers",
        "1",
        "--vqe-ansatze",
        "3",
        "--steps",
        "20",
        "--lr",
        "0.05",
        "--restarts",
        "0",
    ]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    records = read_records(tmp_path / "records.jsonl")
    assert len(records) == 8 and "8 records written" in first.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "0 records written" in again.output and "8 already there" in again.output


def test_bad_input_is_one_line(tmp_path):
    bad = CliRunner().invoke(app, ["generate", "dataset", "--out", str(tmp_path), "--problems", "maxcat"])
    assert bad.exit_code == 2 and "unknown problems maxcat" in bad.output and "maxcut" in bad.output
    bad = CliRunner().invoke(app, ["generate", "dataset", "--out", str(tmp_path), "--nodes", "four"])
    assert bad.exit_code == 2 and "--nodes" in bad.output
    big = CliRunner().invoke(
        app, ["generate", "dataset", "--out", str(tmp_path), "--nodes", "17", "--steps", "1"]
    )
    assert big.exit_code == 0 and "12 instances above the qubit limit skipped" in big.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--nodes", "8-4"], "the range '8-4' is empty"),
        (["--nodes", ","], "no node count given"),
        (["--problems", ","], "no problem given"),
    ],
)
def test_nothing_to_do_is_named_not_an_empty_dataset(tmp_path, options, message):
    bad = CliRunner().invoke(app, ["generate", "dataset", "--out", str(tmp_path), *options])
    assert bad.exit_code == 2 and message in bad.output
    assert not (tmp_path / "records.jsonl").exists()
