"""benchmarks/repro_llm_generator.py: the balanced task list (every problem about as many training
records), its build rounds, and the register diagnosis of generated answers."""

from __future__ import annotations

import importlib
from argparse import Namespace
from collections import Counter

repro = importlib.import_module("benchmarks.repro_llm_generator")


def test_balance_gives_every_problem_as_many_training_records():
    args = Namespace(seeds=4, held_out_seeds=2, balance=False)
    plain = Counter(t.problem for t in repro.task_list("train", repro.NODES, args))
    assert plain["maxcut"] == 3 * plain["max-flow"]  # three sizes against one
    args.balance = True
    balanced = Counter(t.problem for t in repro.task_list("train", repro.NODES, args))
    assert set(balanced.values()) == {4 * 3 * 3}  # seeds x most sizes x methods, every problem
    assert sorted(
        {t.seed for t in repro.task_list("train", repro.NODES, args) if t.problem == "max-flow"}
    ) == list(range(12))
    # held-out graphs do not change with --balance
    test = repro.task_list("test", repro.NODES, args)
    assert {t.seed for t in test} == {1000, 1001}


def test_build_rounds_cover_every_problem_each():
    args = Namespace(seeds=12, held_out_seeds=2, balance=True)
    todo = repro.task_list("train", repro.NODES, args)
    rounds = repro.seed_rounds(todo)
    assert sum(len(r) for r in rounds) == len(todo)
    assert all({t.problem for t in r} == set(repro.NODES) for r in rounds[:2])  # every problem early
    assert [max(t.seed for t in r) for r in rounds] == sorted(max(t.seed for t in r) for r in rounds)


def test_register_diagnosis(tmp_path):
    from qml.generators.llm.evaluate import file_name

    head = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
    graph = {"nodes": [{"id": i} for i in range(4)], "edges": []}
    recs = [
        {"key": "edge-cover/n4/s1/qaoa-p1", "problem": "edge-cover", "n_qubits": 3, "graph": graph},
        {"key": "edge-cover/n4/s2/qaoa-p1", "problem": "edge-cover", "n_qubits": 3, "graph": graph},
        {"key": "maxcut/n4/s1/qaoa-p1", "problem": "maxcut", "n_qubits": 4, "graph": graph},
    ]
    texts = [
        head + "qubit[3] q;\nh q[3];\n",  # node 3 of 4: beyond the register, within the nodes
        head + "qubit[3] q;\nh q[2];\n",
        head + "qubit[5] q;\ncx q[0], q[7];\n",  # wrong register, beyond the nodes too
    ]
    for r, t in zip(recs, texts, strict=True):
        (tmp_path / file_name(r["key"])).write_text(t)
    d = repro.index_diagnosis(tmp_path, recs)
    assert d == {
        "answers": 3,
        "register_as_prompted": 2,
        "beyond_register": {"edge-cover": 1, "maxcut": 1},
        "below_nodes": 1,
    }


def test_length_diagnosis(tmp_path):
    from qml.generators.llm.evaluate import file_name

    head = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\n'
    ref = head + "h q[0];\nh q[1];\n"  # 5 lines
    recs = [{"key": f"maxcut/n2/s{i}/qaoa-p1", "qasm": ref} for i in range(3)]
    texts = [
        ref,  # as long as the reference
        ref + "h q[0];\n" * 4,  # 9 lines: runs past it, still valid
        ref + "h q[0];\n" * 3 + "rx(0.1",  # cut at the context inside a line
    ]
    for r, t in zip(recs, texts, strict=True):
        (tmp_path / file_name(r["key"])).write_text(t)
    rows = [{"valid": True}, {"valid": True}, {"valid": False}]
    d = repro.length_diagnosis(tmp_path, recs, rows)
    assert d == {"answers": 3, "unterminated": 1, "longer": {"valid": 1, "invalid": 1}, "line_ratio": 8 / 5}


def test_quick_study_with_an_on_policy_round(tmp_path):
    """The study end to end at quick settings with one on-policy round: the round starts from the
    trained run, answers --rollouts training prompts, and the held-out answers are its model's."""
    import json

    assert (
        repro.main(
            [
                "--quick",
                "--work",
                str(tmp_path / "work"),
                "--out",
                str(tmp_path / "out"),
                "--rounds",
                "1",
                "--rollouts",
                "6",
                "--replay",
                "8",
                "--decoding",
                "paper",
            ]
        )
        == 0
    )
    result = json.loads((tmp_path / "out" / "repro_llm_generator_quick.json").read_text())
    (first,) = result["on_policy_rounds"]
    trained = next((tmp_path / "work" / "runs").glob("llm-circuits-*"))
    assert first["init"] == str(trained) and first["rollouts"]["rollouts"] == 6 and first["replay"] == 8
    generated = json.loads((tmp_path / "work" / "generated_free_round1" / "generation.json").read_text())
    assert generated["model"] == first["run"] != str(trained)
    assert "## On-policy rounds" in (tmp_path / "out" / "repro_llm_generator_quick.md").read_text()
    # --decoding paper: two more columns, the same prompts answered by the paper's sampling
    sampled = json.loads((tmp_path / "work" / "generated_free_round1_paper" / "generation.json").read_text())
    assert sampled["decoding_name"] == "paper" and sampled["decoding"]["do_sample"] is True
    assert sampled["model"] == first["run"]
    column = result["ours"]["ours, unconstrained, paper decoding"]
    assert column["samples"] == result["ours"]["ours, unconstrained"]["samples"]
    assert result["ours"]["ours, grammar-constrained, paper decoding"]["valid_rate"] == 1.0
    assert set(result["decoding_checks"]["paper"]) == set(result["checks"])


def test_the_beam_probe_names_why_an_answer_is_invalid():
    beams = importlib.import_module("benchmarks.llm_generator_beams")
    head = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\n'
    assert beams.failure(head + "h q[0];\nrx(0.1234) q[1];\n", True) is None
    # a digit repeated past the fourth decimal, whether or not the answer then ended
    assert beams.failure(head + "rx(0.12222222222222", False) == "long_number"
    assert beams.failure(head + "rx(0.12222) q[1];\ncx q[0] q[1];\n", True) == "long_number"
    assert beams.failure(head + "h q[0];\ncx q[0], q", False) == "context"  # cut by the context
    assert beams.failure(head + "h q[2];\n", True) == "index"  # past the register
    assert beams.failure(head + "cx q[0] q[1];\n", True) == "other"
    assert beams.valid_fraction([head + "h q[0];\n", head + "h q[5];\n"]) == 0.5
