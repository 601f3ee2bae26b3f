"""Fixtures of the generator tests: the quick MQT Bench corpus built once into a temporary folder,
a tiny KetGPT run trained on it, and a real-vs-random verifier."""

from __future__ import annotations

import pytest

pytest.importorskip("mqt.bench")
pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def quick_root(tmp_path_factory):
    """The folder of the quick corpus (87 circuits, 2-12 qubits), built with mqt.bench."""
    from data.algorithm_circuits import load_algorithm_circuits

    root = tmp_path_factory.mktemp("corpus") / "algorithm-circuits-quick"
    load_algorithm_circuits("algorithm-circuits-quick", root=root, progress=False)
    return root


@pytest.fixture(scope="session")
def verifier(quick_root):
    from qml.generators.verify import Verifier

    return Verifier.from_corpus("algorithm-circuits-quick", data_root=str(quick_root), epochs=6)
