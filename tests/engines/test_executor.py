"""``executor=``: a list of different circuits spread over worker processes gives the same
numbers as running them here, on Dask distributed (a 2-process LocalCluster) and a process pool."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import torch
from qiskit.circuit.library import efficient_su2

import circuits
from circuits.errors import KetmlError


def _sweep():
    circs = [efficient_su2(3, reps=r + 1) for r in range(5)]
    vals = [np.random.default_rng(i).normal(size=(2, c.num_parameters)) for i, c in enumerate(circs)]
    return circs, vals


@pytest.fixture(scope="module")
def dask_executor():
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client.get_executor()
    client.close()
    cluster.close()


@pytest.mark.parametrize("engine", ["torch", "aer"])
def test_dask_cluster_matches_local(dask_executor, engine):
    circs, vals = _sweep()
    remote = circuits.expval(
        circs,
        ["ZZI", "IXX"],
        vals,
        engine=engine,
        executor=dask_executor,
        **({"dtype": "complex128"} if engine == "torch" else {}),
    )
    local = circuits.expval(circs, ["ZZI", "IXX"], vals, engine="torch", dtype="complex128")
    assert len(remote) == len(circs)
    for r, loc in zip(remote, local, strict=True):
        assert r.shape == (2, 2)
        np.testing.assert_allclose(r.numpy(), loc.numpy(), atol=1e-9)
    # the work really left this process: the workers' pids differ from ours
    pids = set(dask_executor._client.run(lambda: __import__("os").getpid()).values())
    assert len(pids) == 2 and __import__("os").getpid() not in pids


def test_dask_sampling_is_seeded_per_circuit(dask_executor):
    circs, vals = _sweep()
    remote = circuits.sample(circs, vals, shots=200, seed=5, engine="torch", executor=dask_executor)
    local = circuits.sample(circs, vals, shots=200, seed=5, engine="torch")
    assert remote == local
    assert remote[0] != remote[1]  # circuit i gets seed + i: different streams


def test_process_pool_executor():
    circs, vals = _sweep()
    with ProcessPoolExecutor(max_workers=2) as pool:
        remote = circuits.expval(circs, "XYZ", vals, executor=pool)
    local = circuits.expval(circs, "XYZ", vals)
    for r, loc in zip(remote, local, strict=True):
        np.testing.assert_allclose(r.numpy(), loc.numpy(), atol=1e-6)


def test_executor_errors_are_clear():
    circs, vals = _sweep()
    with pytest.raises(KetmlError, match="one per circuit"):
        circuits.expval(circs, "XYZ", vals[:2])
    with pytest.raises(KetmlError, match="list of circuits"):
        circuits.expval(circs[0], "XYZ", vals[0], executor=ProcessPoolExecutor(1))
    with ProcessPoolExecutor(max_workers=1) as pool:
        with pytest.raises(KetmlError, match="gradients do not cross"):
            circuits.expval(circs, "XYZ", [torch.tensor(v, requires_grad=True) for v in vals], executor=pool)
        with pytest.raises(KetmlError, match="by name"):
            circuits.expval(circs, "XYZ", vals, engine=circuits.engines.get("torch"), executor=pool)
    with pytest.raises(KetmlError, match="not a qiskit.QuantumCircuit"):
        circuits.expval([circs[0], "h q[0];"], "XYZ", [vals[0], vals[0]])
