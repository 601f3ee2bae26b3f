"""The adjoint method's fast paths: one observable applied as a cached gather table, gate-by-gate
steps on tiny states, and phi/lam undone together; each must equal backprop exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from circuits.engines.torch_engine import adjoint
from circuits.engines.torch_engine.engine import TorchEngine
from circuits.engines.torch_engine.measure import PauliPlan

from .helpers import random_circuit, random_pauli_sum


def _value_and_grad(engine: TorchEngine, qc, observables, values: torch.Tensor):
    v = values.clone().requires_grad_(True)
    out = engine.expval(qc, observables, v)
    weights = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype).reshape(out.shape)
    (g,) = torch.autograd.grad((out * weights).sum(), v)
    return out.detach(), g


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("n_obs", [1, 2])
@pytest.mark.parametrize("fusion", [None, 1, 4])
def test_adjoint_equals_backprop(batch, n_obs, fusion):
    rng = np.random.default_rng(10 * batch + n_obs)
    n = 6
    qc = random_circuit(n, 18, rng, max_gate_qubits=3)
    observables = [random_pauli_sum(n, 7, rng) for _ in range(n_obs)]  # full-width: no light cone
    values = torch.tensor(rng.uniform(-2, 2, size=(batch, qc.num_parameters)))
    ref = _value_and_grad(TorchEngine(dtype="complex128"), qc, observables, values)
    got = _value_and_grad(
        TorchEngine(dtype="complex128", diff_method="adjoint", fusion_qubits=fusion), qc, observables, values
    )
    torch.testing.assert_close(got[0], ref[0], atol=1e-11, rtol=0)
    torch.testing.assert_close(got[1], ref[1], atol=1e-10, rtol=0)


def test_hamiltonian_table_equals_the_dense_matrix():
    rng = np.random.default_rng(3)
    n = 5
    ham = random_pauli_sum(n, 9, rng)
    plan = PauliPlan([ham], n)
    psi = torch.randn(2, 1 << n, dtype=torch.complex128)
    expected = psi @ torch.as_tensor(ham.to_matrix()).T  # Qiskit's little-endian basis order
    torch.testing.assert_close(adjoint.apply_hamiltonian(plan, psi), expected, atol=1e-12, rtol=0)
