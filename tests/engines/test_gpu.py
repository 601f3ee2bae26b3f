"""GPU paths of every engine agree with their CPU results (skipped without a CUDA GPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit.circuit.library import efficient_su2

import circuits
from circuits import engines

pytestmark = pytest.mark.gpu

N = 12


def _case():
    qc = efficient_su2(N, reps=3)
    v = torch.tensor(np.random.default_rng(0).normal(size=(4, qc.num_parameters)))
    obs = ["Z" * N, "X" + "I" * (N - 2) + "Y"]
    ref = circuits.expval(qc, obs, v, dtype="complex128")
    return qc, v, obs, ref


def _engine_or_skip(name: str, **options):
    try:
        return engines.get(name, **options)
    except circuits.errors.EngineUnavailableError as exc:
        pytest.skip(str(exc))


def test_torch_cuda_matches_cpu():
    qc, v, obs, ref = _case()
    out = circuits.expval(
        qc, obs, v.cuda(), engine=_engine_or_skip("torch", device="cuda", dtype="complex128")
    )
    assert out.device.type == "cuda"
    np.testing.assert_allclose(out.cpu().numpy(), ref.numpy(), atol=1e-9)


def test_aer_gpu_matches_cpu():
    qc, v, obs, ref = _case()
    out = circuits.expval(qc, obs, v, engine=_engine_or_skip("aer", aer_device="GPU"))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-9)


@pytest.mark.parametrize("target,tol", [("nvidia", 1e-4), ("nvidia-fp64", 1e-9)])
def test_cudaq_nvidia_matches_cpu(target, tol):
    qc, v, obs, ref = _case()
    out = circuits.expval(qc, obs, v, engine=_engine_or_skip("cudaq", target=target))
    np.testing.assert_allclose(out.double().numpy(), ref.numpy(), atol=tol)


def test_lightning_gpu_matches_cpu():
    qc, v, obs, ref = _case()
    out = circuits.expval(qc, obs, v, engine=_engine_or_skip("pennylane", pennylane_device="lightning.gpu"))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-9)
