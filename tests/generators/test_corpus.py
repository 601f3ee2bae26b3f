"""The MQT Bench corpus: built once, deduplicated, split by (family, size), verified on load."""

from __future__ import annotations

import json

import pytest

from circuits.errors import DataError
from data.algorithm_circuits import CORPORA, CorpusSpec, build_corpus, load_algorithm_circuits, read_corpus
from data.cache import ChecksumError
from qml.generators.qasm_text import parse


def test_quick_corpus_is_complete_split_and_parses(quick_root):
    corpus = read_corpus(quick_root)
    spec = CORPORA["algorithm-circuits-quick"]
    assert len(corpus) == sum(len(s) for s in spec.sizes.values()) == 87
    assert corpus.duplicates == 0 and not corpus.skipped
    groups = {s: {(r.family, r.size) for r in corpus.split(s)} for s in ("train", "val", "test")}
    assert not groups["train"] & groups["test"] and not groups["train"] & groups["val"]
    assert {r.family for r in corpus.split("test")} == set(spec.families)  # every family has unseen sizes
    for r in corpus.records[:10]:
        circuit = parse(r.text)
        assert circuit.num_qubits == r.num_qubits
        assert r.text.startswith("OPENQASM 2.0;")


def test_duplicates_are_dropped_and_failures_recorded(tmp_path):
    spec = CorpusSpec("t", ("ghz", "no_such_family"), {"ghz": (3, 3, 4), "no_such_family": (2, 3, 4, 5)})
    corpus = build_corpus(tmp_path / "t", spec, progress=False)
    assert [r.size for r in corpus.records] == [3, 4]
    assert corpus.duplicates == 1
    assert {s["family"] for s in corpus.skipped} == {"no_such_family"}
    assert len(corpus.skipped) == 4  # three failures mark the family broken, the fourth is not tried
    assert "not a supported benchmark" in corpus.skipped[0]["reason"]


def test_a_corrupted_cache_is_a_clear_error(tmp_path):
    spec = CorpusSpec("t", ("ghz",), {"ghz": (2, 3)})
    folder = tmp_path / "t"
    build_corpus(folder, spec, progress=False)
    target = next(folder.glob("ghz_003.qasm"))
    target.write_text(target.read_text().replace("cx", "cz", 1))
    with pytest.raises(ChecksumError, match="ghz_003.qasm does not match its checksum.*delete"):
        read_corpus(folder)
    target.unlink()
    with pytest.raises(ChecksumError, match="missing"):
        read_corpus(folder)
    (folder / "MANIFEST.json").write_text("{not json")
    with pytest.raises(DataError, match="damaged"):
        read_corpus(folder)


def test_a_folder_of_another_spec_is_refused(tmp_path):
    folder = tmp_path / "algorithm-circuits-quick"
    build_corpus(folder, CorpusSpec("x", ("ghz",), {"ghz": (2,)}), progress=False)
    with pytest.raises(DataError, match="another specification"):
        load_algorithm_circuits("algorithm-circuits-quick", root=folder, progress=False)
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    assert manifest["circuits"][0]["sha256"]


def test_the_catalogue_lists_both_corpora():
    import data

    names = data.names("QASM corpus")
    assert "algorithm-circuits" in names and "algorithm-circuits-quick" in names
    assert data.status("algorithm-circuits").state == "available"
