"""``ketml verify``: the folds separate known-real from known-random circuits, broken input is
recorded or refused clearly, and the structure metrics match hand-computed values."""

from __future__ import annotations

import json
import shutil

import pytest
from qiskit import QuantumCircuit

from circuits.errors import DataError
from data.algorithm_circuits import read_corpus
from qml.cli import app
from qml.generators.qasm_text import gate_sequence, parse
from qml.generators.verify import list_qasm_files, verify_folder
from qml.generators.verify.novelty import NoveltyIndex
from qml.generators.verify.structure import metrics
from qml.generators.verify.validity import check_text


@pytest.fixture(scope="module")
def folders(quick_root, verifier, tmp_path_factory):
    root = tmp_path_factory.mktemp("verify")
    corpus = read_corpus(quick_root)
    real, rand, broken = root / "real", root / "random", root / "broken"
    for d in (real, rand, broken):
        d.mkdir()
    tests = corpus.split("test")
    for r in tests:
        shutil.copy(r.path, real)
    for i, text in enumerate(verifier.random_baseline([(r.num_qubits, r.n_gates) for r in tests], seed=5)):
        (rand / f"random_{i}.qasm").write_text(text)
    (broken / "syntax.qasm").write_text(
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0]\ncx q[0],q[1];\n'
    )
    (broken / "outside.qasm").write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncx q[0],q[5];\n')
    (broken / "binary.qasm").write_bytes(b"\xff\xfe\x00\x01")
    (broken / "huge.qasm").write_text(
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[99999999999999999999999];\n'
    )
    (broken / "empty.qasm").write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\n')
    shutil.copy(tests[0].path, broken / "good.qasm")
    return {"real": real, "random": rand, "broken": broken}


def test_the_classifier_separates_held_out_real_from_random(verifier):
    held = verifier.heldout
    assert held["n_real"] == 16 and held["n_random"] == 16
    assert held["auc"] >= 0.75 and held["accuracy"] >= 0.7


def test_known_real_and_known_random_folders_are_told_apart(verifier, folders, tmp_path):
    real = verify_folder(folders["real"], verifier=verifier, out=tmp_path)
    rand = verify_folder(folders["random"], verifier=verifier)
    assert real["valid_fraction"] == rand["valid_fraction"] == 1.0
    assert real["called_real_fraction"] >= 0.6
    assert rand["called_real_fraction"] <= 0.25
    assert real["called_real_fraction"] - rand["called_real_fraction"] >= 0.5
    # structure: real test circuits are closer to the real training circuits than random ones
    st = real["structure"]
    assert len(st["closer_than_random"]) >= 5
    assert (tmp_path / "report.json").is_file() and (tmp_path / "structure.png").stat().st_size > 1000
    # novelty: real test circuits have unseen (family, size): no exact copies
    assert real["novelty"]["exact_copy_fraction"] == 0.0


def test_structure_is_compared_with_the_reference_asked_for(verifier, folders):
    texts = [p.read_text() for p in list_qasm_files(folders["real"])]
    n = len(verifier.reference)
    small = verifier.reference_within([r["gates"] <= 40 for r in verifier.reference])
    assert 0 < len(small) < n and all(r["gates"] <= 40 for r in small)
    whole = verifier.assess(texts, baseline=False)["structure"]
    cut = verifier.assess(texts, baseline=False, reference=small)["structure"]
    assert whole["n_reference"] == n and cut["n_reference"] == len(small)
    assert cut["means"]["real"]["gates"] < whole["means"]["real"]["gates"]
    assert cut["given_to_real"]["gates"] != whole["given_to_real"]["gates"]
    with pytest.raises(DataError, match="flags"):
        verifier.reference_within([True])


def test_broken_files_are_invalid_with_reasons(verifier, folders):
    report = verify_folder(folders["broken"], verifier=verifier)
    reasons = {bad["file"]: bad["reason"] for bad in report["invalid"]}
    assert report["n_files"] == 6 and report["n_valid"] == 1
    assert "does not parse" in reasons["huge.qasm"]  # Qiskit's parser panics; still a recorded reason
    assert "does not parse" in reasons["syntax.qasm"] and ":5,0" in reasons["syntax.qasm"]
    assert "does not parse" in reasons["outside.qasm"]
    assert "unreadable" in reasons["binary.qasm"]
    assert reasons["empty.qasm"] == "no gates"


def test_bad_folders_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        list_qasm_files(tmp_path / "nope")
    with pytest.raises(DataError, match="no .qasm files"):
        list_qasm_files(tmp_path)
    (tmp_path / "file.qasm").write_text("x")
    with pytest.raises(DataError, match="not a folder"):
        list_qasm_files(tmp_path / "file.qasm")


def test_structure_metrics_of_a_ghz_chain():
    qc = QuantumCircuit(4)
    qc.h(0)
    for i in range(3):
        qc.cx(i, i + 1)
    qc.measure_all()
    m = metrics(qc)
    assert m["qubits"] == 4 and m["gates"] == 4 and m["depth"] == 4
    assert m["two_qubit_share"] == 0.75 and m["gate_density"] == pytest.approx(4 / 16)
    assert m["avg_degree"] == 1.5 and m["max_degree"] == 2 and m["diameter"] == 3
    assert m["avg_path_length"] == pytest.approx(10 / 6) and m["clustering"] == 0.0


def test_novelty_finds_exact_and_near_copies(quick_root):
    records = read_corpus(quick_root).split("train")
    texts = [r.text for r in records]
    circuits = [parse(t) for t in texts]
    index = NoveltyIndex(texts, [gate_sequence(c) for c in circuits], [c.num_qubits for c in circuits])
    big = max(range(len(circuits)), key=lambda i: len(circuits[i].data))
    copy = texts[big].replace("\n", "\n  ")  # the same circuit, reformatted
    assert index.check(copy, gate_sequence(circuits[big]), circuits[big].num_qubits)["exact"]
    near = circuits[big].copy()
    near.x(0)  # one gate more
    found = index.check("changed", gate_sequence(near), near.num_qubits)
    assert not found["exact"] and found["near"] and found["similarity"] > 0.9
    other = QuantumCircuit(circuits[big].num_qubits)
    other.h(0)
    assert not index.check("x", gate_sequence(other), other.num_qubits)["near"]


def test_validity_simulates_small_runs_mps_above_and_counts_gates_of_huge():
    small, _ = check_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0],q[1];\n')
    assert small.valid and small.method.startswith("statevector")
    wide = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[30];\nh q[0];\ncx q[0],q[29];\n'
    large, _ = check_text(wide, max_statevector_qubits=12, max_mps_gates=100)
    assert large.valid and large.method == "matrix product state (aer engine)" and large.n_gates == 2
    counted, _ = check_text(wide, max_statevector_qubits=12, max_mps_gates=1)  # over the MPS limit
    assert counted.valid and counted.method == "gate count"
    chain = "".join(f"cx q[{i}],q[{i + 1}];\n" for i in range(59))
    ghz, _ = check_text(wide.replace("q[30]", "q[60]").replace("cx q[0],q[29];\n", chain), max_mps_gates=100)
    assert ghz.valid and ghz.method.startswith("matrix product state") and ghz.n_gates == 60


def test_a_saved_verifier_is_reused_and_checked_against_the_corpus(
    verifier, quick_root, tmp_path, monkeypatch
):
    import json as json_module

    from qml.generators.verify import Verifier
    from qml.generators.verify import verifier as verifier_module

    path = verifier.save(tmp_path / "v.pt")
    again = Verifier.load(path, "algorithm-circuits-quick", data_root=str(quick_root))
    circuits = [parse(r.text) for r in read_corpus(quick_root).split("test")[:6]]
    assert again.classifier.prob_real(circuits) == pytest.approx(verifier.classifier.prob_real(circuits))
    assert again.heldout == verifier.heldout and again.reference == verifier.reference
    text = read_corpus(quick_root).split("train")[0].text
    seq = gate_sequence(parse(text))
    assert again.novelty.check(text, seq, parse(text).num_qubits)["exact"]

    def no_training(*args, **kwargs):
        raise AssertionError("the classifier was trained again")

    monkeypatch.setattr(verifier_module, "train_classifier", no_training)
    reused = Verifier.cached("algorithm-circuits-quick", path=path, data_root=str(quick_root))
    assert reused.heldout == verifier.heldout
    monkeypatch.setenv("KETML_DATA", str(tmp_path / "home"))
    monkeypatch.setattr(verifier_module.Verifier, "from_corpus", classmethod(lambda cls, *a, **k: verifier))
    first = Verifier.cached("algorithm-circuits-quick", data_root=str(quick_root), epochs=6)
    (saved,) = (tmp_path / "home" / "verifiers").iterdir()
    assert saved.name.startswith("algorithm-circuits-quick-") and first is verifier
    monkeypatch.setattr(verifier_module.Verifier, "from_corpus", classmethod(no_training))
    second = Verifier.cached("algorithm-circuits-quick", data_root=str(quick_root), epochs=6)
    assert second.heldout == verifier.heldout  # loaded, not trained
    with pytest.raises(DataError, match="not algorithm-circuits"):
        Verifier.load(path, "algorithm-circuits", data_root=str(quick_root))
    stale = tmp_path / "stale.pt"
    verifier.save(stale)
    import torch

    state = torch.load(stale, weights_only=True)
    state["corpus_key"] = "0" * 64  # as if the corpus had changed since
    torch.save(state, stale)
    with pytest.raises(DataError, match="another version"):
        Verifier.load(stale, "algorithm-circuits-quick", data_root=str(quick_root))
    (tmp_path / "junk.pt").write_text(json_module.dumps({"not": "a verifier"}))
    with pytest.raises(DataError, match="not a saved verifier"):
        Verifier.load(tmp_path / "junk.pt")
    with pytest.raises(DataError, match="no saved verifier"):
        Verifier.load(tmp_path / "missing.pt")


def test_cli_verify_json_and_errors(verifier, folders, quick_root, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from qml.generators.verify import verifier as verifier_module

    monkeypatch.setattr(verifier_module.Verifier, "from_corpus", classmethod(lambda cls, *a, **k: verifier))
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["verify", str(folders["broken"]), "--json", "--against", "algorithm-circuits-quick", "--no-cache"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n_valid"] == 1 and len(report["invalid"]) == 5 and "given_to_real" in report["structure"]
    saved = verifier.save(tmp_path / "saved" / "v.pt")
    monkeypatch.setattr(verifier_module.Verifier, "from_corpus", None)  # must not train
    result = runner.invoke(
        app,
        ["verify", str(folders["broken"]), "--json", "--against", "algorithm-circuits-quick"]
        + ["--classifier", str(saved), "--data-root", str(quick_root)],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["classifier_heldout"] == verifier.heldout
    result = runner.invoke(app, ["verify", str(folders["broken"]), "--classifier", str(saved)])
    assert result.exit_code == 2 and "not algorithm-circuits" in result.output  # the default corpus
    result = runner.invoke(app, ["verify", str(tmp_path / "saved")])
    assert result.exit_code == 2 and "holds no .qasm files" in result.output
    result = runner.invoke(
        app, ["generate", "ketgpt", "--model", str(tmp_path / "none"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "no model at" in result.output
