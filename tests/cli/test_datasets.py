"""``ketml datasets``: the whole catalogue as a table or JSON, filtered by kind, with what is present."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qml.cli import app

try:
    runner = CliRunner(mix_stderr=False)
except TypeError:  # click >= 8.2 keeps stderr apart always
    runner = CliRunner()


def invoke(*args: str, **env: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **env})


def test_table_lists_every_dataset_with_where_and_whether(tmp_path):
    import data

    result = invoke("datasets", KETML_DATA=str(tmp_path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"data folder: {tmp_path}  (set KETML_DATA to change it)"
    assert lines[1].split() == ["name", "kind", "present", "looked", "for", "how", "to", "get"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert set(rows) == set(data.names())
    assert "no (missing)" in rows["mnist"] and str(tmp_path / "mnist") in rows["mnist"]
    assert "yes (generated)" in rows["narma10"] and "time series" in rows["narma10"]
    assert "molecules" in rows["H2O"] and "RL environment" in rows["cartpole"]


def test_json_and_kind_filter(tmp_path):
    (tmp_path / "corrosion").mkdir()
    (tmp_path / "corrosion" / "iso9224_2012_time_exponents.csv").write_text("junk\n")
    result = invoke("datasets", "--json", "--kind", "tables", KETML_DATA=str(tmp_path))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["kind"] for r in rows} == {"tables"}
    (row,) = [r for r in rows if r["name"] == "corrosion-iso9223"]
    assert row["present"] is False and row["status"] == "corrupt"
    assert row["looked_for"] == str(tmp_path / "corrosion") and len(row["files"]) == 3
    result = invoke("datasets", "-k", "rl-environment", "--json")
    assert [r["name"] for r in json.loads(result.stdout)] == [
        "cartpole",
        "minigrid-empty-5x5",
        "minigrid-empty-6x6",
        "minigrid-doorkey-5x5",
    ]


def test_unknown_kind_is_one_line_and_help_explains_options():
    result = invoke("datasets", "--kind", "audio")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("ketml: error: unknown dataset kind 'audio'; known: images")
    assert "Traceback" not in result.output
    help_text = " ".join(invoke("datasets", "--help").stdout.split())
    for words in ("--kind", "--json", "KETML_DATA", "how to get", "present"):
        assert words in help_text, words
