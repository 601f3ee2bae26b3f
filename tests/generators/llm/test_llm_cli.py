"""``ketml train llm-circuits``, ``ketml generate llm`` and ``ketml evaluate-circuits``, and bad input:
a graph above the qubit limit, an unknown problem, a model path that is not a causal LM, text that
is not QASM (a row with its reason, never a crash)."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from typer.testing import CliRunner

from circuits.errors import ConfigurationError, DataError
from qml.cli import app
from qml.generators.llm.causal_lm import check_causal_lm
from qml.generators.llm.evaluate import file_name


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_train_generate_evaluate(records_dir, tmp_path):
    result = run(
        "train",
        "llm-circuits",
        "--data",
        records_dir,
        "--size",
        "tiny",
        "-D",
        "vocab_size=600",
        "-D",
        "block=256",
        "--epochs",
        "1",
        "--out",
        tmp_path / "runs",
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    assert "validation perplexity of the answers" in result.stdout
    (run_dir,) = (tmp_path / "runs").iterdir()
    out = tmp_path / "gen"
    result = run(
        "generate",
        "llm",
        "--model",
        run_dir,
        "--records",
        records_dir / "records.jsonl",
        "--limit",
        "3",
        "--constrained",
        "--max-tokens",
        "30",
        "--out",
        out,
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    assert "3 circuits written" in result.stdout and len(list(out.glob("*.qasm"))) == 3
    assert json.loads((out / "generation.json").read_text())["decoding"]["do_sample"] is False
    (out / next(out.glob("*.qasm")).name).write_text("this is not QASM")  # one answer turned to junk
    result = run("evaluate-circuits", out, "--json", "--n-random", "20")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]  # JSON lines, one flat row each
    assert all(not isinstance(v, (dict, list)) for row in rows for v in row.values())  # a table's cells
    assert len(rows) == 3 and sum(r["valid"] for r in rows) == 2
    assert all("Error" in r["reason"] for r in rows if not r["valid"])
    report = [json.loads(line) for line in (out / "evaluation.jsonl").read_text().splitlines()]
    assert [r["key"] for r in report] == [r["key"] for r in rows]
    result = run("evaluate-circuits", out, "--n-random", "20")
    assert result.exit_code == 0 and "syntactically valid        2 (66.7 %)" in result.stdout


def test_generate_for_a_new_graph(tiny_run, tmp_path):
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"nodes": [0, 1, 2, 3], "edges": [[0, 1], [1, 2], [2, 3], [3, 0]]}))
    out = tmp_path / "one"
    result = run(
        "generate",
        "llm",
        "--model",
        tiny_run,
        "--problem",
        "maxcut",
        "--graph",
        graph,
        "--constrained",
        "--decoding",
        "paper",
        "--max-tokens",
        "20",
        "--out",
        out,
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OPENQASM 3.0;") and "1 circuits written" in result.stdout
    (record,) = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert record["exact_energy"] == -4 and (out / file_name(record["key"])).is_file()
    settings = json.loads((out / "generation.json").read_text())
    assert settings["decoding_name"] == "paper" and settings["decoding"]["temperature"] == 0.7


def test_bad_input_is_one_line(tiny_run, records_dir, tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps(nx.node_link_data(nx.path_graph(17), edges="edges")))
    result = run(
        "generate", "llm", "--model", tiny_run, "--problem", "maxcut", "--graph", big, "--out", tmp_path
    )
    assert result.exit_code == 2 and "17 qubits, above the limit of 16" in result.output
    result = run(
        "generate", "llm", "--model", tiny_run, "--problem", "maxcat", "--nodes", "4", "--out", tmp_path
    )
    assert result.exit_code == 2 and "unknown problem 'maxcat'" in result.output and "maxcut" in result.output
    result = run("generate", "llm", "--model", tmp_path, "--problem", "maxcut", "--nodes", "4")
    assert result.exit_code == 2 and "run.json" in result.output
    result = run(
        "generate", "llm", "--model", tiny_run, "--problem", "maxcut", "--nodes", "4", "--decoding", "beam"
    )
    assert result.exit_code == 2 and "unknown decoding 'beam'" in result.output
    result = run("generate", "llm", "--model", tiny_run, "--nodes", "4")
    assert result.exit_code == 2 and "--records FILE or --problem" in result.output
    result = run("train", "llm-circuits", "--data", tmp_path / "nowhere", "--no-progress")
    assert result.exit_code == 2 and "does not exist" in result.output
    result = run("train", "llm-circuits", "--data", tmp_path, "--no-progress", "--out", tmp_path / "r")
    assert result.exit_code == 2 and "no records at" in result.output


def test_model_path_that_is_not_a_causal_lm(records_dir, tmp_path, monkeypatch):
    from transformers import DistilBertConfig

    with pytest.raises(DataError, match="no config.json"):
        check_causal_lm(tmp_path)
    (tmp_path / "weights.bin").write_text("x")
    with pytest.raises(DataError, match="is a file"):
        check_causal_lm(tmp_path / "weights.bin")
    bert = tmp_path / "distilbert"  # an encoder: no causal LM head exists for it
    DistilBertConfig(dim=32, n_layers=1, n_heads=2, hidden_dim=32).save_pretrained(bert)
    with pytest.raises(ConfigurationError, match="holds a distilbert model.*not a causal language model"):
        check_causal_lm(bert)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigurationError, match="Hub is not reachable"):
        check_causal_lm("Qwen/Qwen2.5-3B-Instruct")
    result = run(
        "train",
        "llm-circuits",
        "--data",
        records_dir,
        "-D",
        f"base='{bert}'",
        "--out",
        tmp_path / "r",
        "--no-progress",
    )
    assert result.exit_code == 2 and "not a causal language model" in result.output
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_graph_files_with_any_node_names(tmp_path):
    from qml.cli.common import CliError
    from qml.cli.generate_llm import read_graph

    def read(name, text):
        (tmp_path / name).write_text(text)
        return read_graph(tmp_path / name)

    # networkx node-link data without "multigraph": a simple graph, letters renamed in sorted order
    g = read(
        "ab.json",
        json.dumps(
            {
                "nodes": [{"id": "b"}, {"id": "a"}, {"id": "c"}],
                "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "c"}],
            }
        ),
    )
    assert not g.is_multigraph() and sorted(map(sorted, g.edges)) == [[0, 1], [1, 2]]
    # 1-based lists, a terminal renamed with its node; integers sort as numbers (10 after 2)
    g = read(
        "one.json", json.dumps({"nodes": [1, 2, 10], "edges": [[1, 2, 0.5], [2, 10]], "terminals": [1, 10]})
    )
    assert sorted(g.edges(data="weight")) == [(0, 1, 0.5), (1, 2, None)] and g.graph["terminals"] == [0, 2]
    g = read("e.txt", "x y 2.0\ny z\n")
    assert sorted(g.edges(data="weight")) == [(0, 1, 2.0), (1, 2, None)]
    assert build_ok(read("loop.txt", "0 1\n1 2\n")) == 3
    with pytest.raises(CliError, match="not a graph of nodes"):
        read("short.json", json.dumps({"nodes": [0, 1], "edges": [[0]]}))
    with pytest.raises(ConfigurationError, match="self-loops"):
        build_ok(read("self.json", json.dumps({"edges": [[0, 0], [0, 1]]})))


def build_ok(graph) -> int:
    from qml.generators.llm import build

    return build("maxcut", graph).n_qubits


def test_a_folder_without_one_valid_circuit_says_so(records_dir, tmp_path):
    (tmp_path / file_name("maxcut/n3/0/qaoa-p1")).write_text("this is not QASM")
    result = run("evaluate-circuits", tmp_path, "--records", records_dir / "records.jsonl", "--n-random", "5")
    assert result.exit_code == 0, result.output
    assert "syntactically valid        0 (0.0 %)" in result.output and "no valid circuit" in result.output
    assert "nan" not in result.output
    rows = [json.loads(line) for line in (tmp_path / "evaluation.jsonl").read_text().splitlines()]
    assert len(rows) == 24 and not any(r["valid"] for r in rows)


def test_a_prompt_that_fills_the_context_is_named(tiny_run, tmp_path):
    graph = tmp_path / "big.json"
    graph.write_text(json.dumps(nx.node_link_data(nx.complete_graph(12), edges="edges")))
    result = run(
        *"generate llm --problem maxcut".split(),
        "--model",
        tiny_run,
        "--graph",
        graph,
        "--out",
        tmp_path / "o",
    )
    assert result.exit_code == 2 and "no room for an answer" in result.output, result.output
    assert "context is 256" in result.output and not (tmp_path / "o").exists()


def test_records_that_lack_fields_are_named_by_every_command(records_dir, tiny_run, tmp_path):
    lines = (records_dir / "records.jsonl").read_text().splitlines()
    second = json.loads(lines[1])
    del second["n_qubits"], second["probabilities"]
    bad = tmp_path / "data" / "records.jsonl"
    bad.parent.mkdir()
    bad.write_text("\n".join([lines[0], json.dumps(second), *lines[2:]]) + "\n")
    result = run("train", "llm-circuits", "--data", bad.parent, "--out", tmp_path / "r", "--no-progress")
    assert result.exit_code == 2 and "record 2 lacks n_qubits;" in result.output
    out = tmp_path / "gen"
    result = run("generate", "llm", "--model", tiny_run, "--records", bad, "--out", out, "--no-progress")
    assert result.exit_code == 2 and "record 2 lacks n_qubits;" in result.output and not out.exists()
    result = run("evaluate-circuits", tmp_path, "--records", bad)
    assert result.exit_code == 2 and "record 2 lacks n_qubits, probabilities;" in result.output
