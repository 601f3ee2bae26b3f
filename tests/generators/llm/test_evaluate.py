"""The paper's metrics on the dataset's own circuits (near perfect), on the same circuits with random
angles (worse than the records), on junk and on wrong-width text (invalid or refused, with reasons)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qiskit import qasm3

from circuits.errors import ConfigurationError
from qml.generators.llm.dataset import build_dataset, read_records, tasks
from qml.generators.llm.evaluate import (
    evaluate,
    evaluate_folder,
    evaluate_text,
    extract_qasm,
    file_name,
    kl_rows,
    randomisable,
    summarise,
    write_report,
)
from qml.generators.llm.optimise import Method


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    path = tmp_path_factory.mktemp("ev") / "records.jsonl"
    todo = tasks(["maxcut", "matching"], [4], [0, 1, 2], [Method("qaoa", 2), Method("vqe", 1, ansatz=13)])
    build_dataset(todo, path, steps=60, lr=0.05, restarts=1, batch_size=6)
    return read_records(path)


def _random_angles(record, seed):
    from qiskit_qasm3_import import parse

    template, count = randomisable(parse(record["qasm"]))
    values = np.random.default_rng(seed).uniform(0, 2 * np.pi, count)
    return qasm3.dumps(template.assign_parameters(values))


def test_own_circuits_score_like_their_records(records, tmp_path):
    rows = evaluate([(r["qasm"], r) for r in records], n_random=200)
    for row, r in zip(rows, records, strict=True):
        assert row["valid"] and row["reason"] is None
        assert row["most_probable_optimal"] == r["most_probable_optimal"]
        assert abs(row["kl_generated"]) < 1e-6 < row["kl_random"]
        assert row["expectation_gap"] < 1e-6 and row["expectation_success"]
    s = summarise(rows)
    assert s["valid_rate"] == 1.0 and s["expectation_success_rate"] == 1.0 and s["kl_ratio"] < 1e-6
    path = write_report(rows, tmp_path / "report.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == rows and all(not isinstance(v, (dict, list)) for row in lines for v in row.values())
    try:
        import pandas as pd
    except ImportError:  # not installed here; the flat rows above are what read_json needs
        return
    assert len(pd.read_json(path, lines=True)) == len(rows)


def test_random_angles_score_worse(records):
    rows = evaluate([(_random_angles(r, i), r) for i, r in enumerate(records)], n_random=200)
    s = summarise(rows)
    assert s["valid_rate"] == 1.0
    assert all(r["kl_generated"] > 0.05 for r in rows)
    assert s["kl_generated"] > 0.5 * s["kl_random"]  # a random draw is a draw like the baseline's
    assert s["expectation_generated"] > s["expectation_solution"] + 0.2


def test_junk_and_wrong_width_are_rows_with_reasons(records):
    r = records[0]
    junk = [
        "hello",
        "",
        "OPENQASM 3.0;\nqubit[4] q;\nfoo q[0];",
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[100000000000] q;',
        r["qasm"][: len(r["qasm"]) // 2] + "rz(",
    ]
    rows = evaluate([(t, r) for t in junk], n_random=10)
    assert [row["valid"] for row in rows] == [False] * len(junk)
    assert all(row["reason"] for row in rows)
    assert "foo" in rows[2]["reason"] and rows[1]["reason"].startswith("empty answer")
    lines = r["qasm"].split("\n")
    for number in ("9" * 400, "9" * 400 + ".5"):  # digit loops that closed: an int, or inf
        loop = "\n".join([*lines[:3], f"rz({number}) q[0];", *lines[3:]])
        endless = evaluate_text(loop, r, n_random=10)
        assert (
            endless["valid"] and "not a finite number" in endless["reason"] and "kl_generated" not in endless
        )
    wide = evaluate_text('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0];', r)
    assert wide["valid"] and "2 qubits" in wide["reason"] and "kl_generated" not in wide
    s = summarise(rows + [wide])
    assert s["valid"] == 1 and s["simulated"] == 0


def test_fenced_answers_are_extracted(records):
    r = records[0]
    answer = f"Here is the circuit:\n```qasm\n{r['qasm']}```\nIt solves the problem. ```more```"
    assert extract_qasm(answer) == r["qasm"]
    assert evaluate_text(answer, r, n_random=10)["expectation_success"]


def test_unknown_method_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        Method("vqe", 1)


def test_folder_of_generated_files(records, tmp_path):
    (tmp_path / file_name(records[0]["key"])).write_text(records[0]["qasm"])
    (tmp_path / file_name(records[1]["key"])).write_bytes(b"\xff\xfe not qasm")
    rows = evaluate_folder(tmp_path, records[:3], n_random=10)
    assert [r["valid"] for r in rows] == [True, False, False]
    assert rows[0]["expectation_success"] and "no generated file" in rows[2]["reason"]


def test_kl_rows_is_scipy_entropy_base_2():
    from scipy.stats import entropy

    rng = np.random.default_rng(0)
    p, q = rng.random((5, 16)), rng.random(16)
    p[0, 3] = 0.0
    np.testing.assert_allclose(kl_rows(p, q), [entropy(row, q, base=2) for row in p], rtol=1e-12)
    q[2] = 0.0
    assert np.isinf(kl_rows(p[1:2], q)[0]) and np.isinf(entropy(p[1], q, base=2))
