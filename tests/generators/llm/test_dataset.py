"""The dataset build: optimisation reaches optima, an interrupted build resumes to the same file,
and every record's QASM 3 parses and reproduces its probabilities on the torch engine."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qiskit_qasm3_import import parse

from circuits import statevector
from circuits.errors import ConfigurationError
from qml.generators.llm.dataset import build_dataset, instance_of, prompt, read_records, tasks
from qml.generators.llm.optimise import Method, optimise
from qml.generators.llm.problems import random_instance

QUICK = {"steps": 40, "lr": 0.05, "restarts": 1, "batch_size": 3}
TASKS = tasks(["maxcut", "vertex-cover"], [3, 4], [0, 1], [Method("qaoa", 1), Method("vqe", 1, ansatz=3)])


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    path = tmp_path_factory.mktemp("ds") / "full.jsonl"
    counts = build_dataset(TASKS, path, **QUICK)
    assert counts == {"written": len(TASKS), "existing": 0, "too_large": 0}
    return path


def test_interrupted_build_resumes_to_the_same_file(full, tmp_path):
    path = tmp_path / "part.jsonl"

    def stop(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_dataset(TASKS, path, on_batch=stop, **QUICK)
    partial = path.read_text()
    assert 0 < partial.count("\n") < len(TASKS)
    with path.open("a") as fh:  # a torn last line, as a kill mid-write leaves
        fh.write('{"key": "maxcut/n3')
    counts = build_dataset(TASKS, path, **QUICK)
    assert counts["written"] == len(TASKS) - partial.count("\n")
    assert path.read_text() == full.read_text()
    assert build_dataset(TASKS, path, **QUICK)["written"] == 0


def _by_key(path):
    return {r["key"]: r for r in read_records(path)}


def test_executor_builds_the_same_records(full, tmp_path):
    """A process pool (any concurrent.futures executor) writes the serial build's records, in the
    order its batches finish; interrupted, it resumes like the serial build."""
    from concurrent.futures import ProcessPoolExecutor

    path = tmp_path / "pool.jsonl"
    with ProcessPoolExecutor(2) as pool:
        counts = build_dataset(TASKS[:8], path, executor=pool, **QUICK)
        assert counts["written"] == 8
        counts = build_dataset(TASKS, path, executor=pool, progress=True, **QUICK)
    assert counts == {"written": len(TASKS) - 8, "existing": 8, "too_large": 0}
    assert _by_key(path) == _by_key(full)
    with pytest.raises(ConfigurationError, match="submit"):
        build_dataset(TASKS, path, executor=object())


@pytest.mark.slow  # a Dask cluster's start-up: seconds
def test_dask_client_builds_the_same_records(full, tmp_path):
    distributed = pytest.importorskip("distributed")
    path = tmp_path / "dask.jsonl"
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as c:
        build_dataset(TASKS, path, executor=c, **QUICK)
    assert _by_key(path) == _by_key(full)


def test_records_parse_and_reproduce_their_probabilities(full):
    records = read_records(full)
    assert sorted(r["key"] for r in records) == sorted(t.key for t in TASKS)
    for r in records:
        qc = parse(r["qasm"])
        assert qc.num_qubits == r["n_qubits"] and not qc.parameters
        probs = statevector(qc, dtype="complex128").abs().square()[0].numpy()
        np.testing.assert_allclose(probs, r["probabilities"], atol=1e-8)
        top = format(int(np.argmax(probs)), f"0{r['n_qubits']}b")
        assert r["most_probable_optimal"] == (top in r["exact_bitstrings"])
        json.dumps(r)  # plain JSON all through
    assert sum(r["most_probable_optimal"] for r in records) >= len(records) * 3 // 4


def test_optimise_reaches_the_optimum_and_is_batch_independent():
    insts = [random_instance("maxcut", 5, s) for s in range(4)]
    method = Method("qaoa", 2)
    together = optimise(insts, method, seeds=[0, 1, 2, 3], steps=100, lr=0.05, restarts=2)
    alone = optimise(insts[2:3], method, seeds=[2], steps=100, lr=0.05, restarts=2)[0]
    np.testing.assert_allclose(together[2].parameters, alone.parameters, atol=1e-10)
    for inst, sol in zip(insts, together, strict=True):
        assert sol.optimal
        assert sol.energy < float(np.mean(inst.hamiltonian.to_matrix(sparse=True).diagonal().real))


def test_bad_methods_are_named():
    with pytest.raises(ConfigurationError, match="1..4"):
        Method("qaoa", 5)
    with pytest.raises(ConfigurationError, match="ansatz"):
        Method("vqe", 1, ansatz=99)
    with pytest.raises(ConfigurationError, match="qaoa"):
        Method("adapt", 1)


def test_records_rebuild_their_instances_and_prompts(full):
    for r in read_records(full):
        inst = instance_of(r)
        assert [[k, c] for k, c in inst.hamiltonian.to_list()] == [
            [k, complex(c)] for k, c in r["hamiltonian"]
        ]
        assert list(inst.exact().bitstrings) == r["exact_bitstrings"]
        text = prompt(r)
        assert f"{r['n_qubits']} qubits and {r['layers']} layers" in text and r["problem"] in text
