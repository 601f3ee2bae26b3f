"""benchmarks/ketgpt_validity_probe.py on a tiny trained run: its valid fraction and reasons are
those of fold 1 on the same draws, and the stop probe gives a probability per (k, N)."""

from __future__ import annotations

import json

from benchmarks import ketgpt_validity_probe as probe_script
from qml.generators.ketgpt import generate, load_generator
from qml.generators.verify.validity import check_text

from .test_lm import _train


def test_probe_counts_fold_one_verdicts_and_stop_probabilities(quick_root, tmp_path):
    run_dir, _ = _train(quick_root, tmp_path / "runs", 1)
    out = tmp_path / "out"
    argv = [str(run_dir), "--n", "6", "--max-tokens", "40", "--temperatures", "1.0", "--stop-probe"]
    assert probe_script.main([*argv, "--out", str(out), "--tag", "t"]) == 0
    result = json.loads((out / "ketgpt_validity_probe_t.json").read_text())
    (row,) = result["rows"]
    texts = generate(
        load_generator(run_dir), 6, temperature=1.0, top_k=20, max_new_tokens=40, batch_size=50, seed=1
    )
    invalid = sum(not check_text(t)[0].valid for t in texts)
    assert row["n"] == 6 and sum(row["reasons"].values()) == invalid
    assert abs(row["valid"] - (1 - invalid / 6)) < 1e-12
    stops = result["stop_probe"][run_dir.name]
    assert sorted(int(k) for k in stops) == list(probe_script.STOP_SIZES)
    for by_extra in stops.values():
        assert sorted(int(e) for e in by_extra) == list(probe_script.STOP_EXTRA)
        assert all(0 < p < 1 for p in by_extra.values())


def test_probe_checks_circuits_drawn_elsewhere(quick_root, tmp_path):
    run_dir, _ = _train(quick_root, tmp_path / "runs", 1)
    drawn = tmp_path / "drawn"
    drawn.mkdir()
    good = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0],q[1];\n'
    (drawn / "a.qasm").write_text(good)
    (drawn / "b.qasm").write_text(good.replace("q[1]", "q[5]"))  # an index past the register
    (drawn / "c.qasm").write_text(good.replace("cx", "cx("))  # does not parse
    out = tmp_path / "out"
    argv = [str(run_dir), "--n", "1", "--drawn", str(drawn), "--out", str(out), "--tag", "d"]
    assert probe_script.main(argv) == 0
    (row,) = json.loads((out / "ketgpt_validity_probe_d.json").read_text())["rows"]
    assert row["n"] == 3 and abs(row["valid"] - 1 / 3) < 1e-12
    assert sum(row["reasons"].values()) == 2
    assert any("out-of-range" in reason for reason in row["reasons"])
