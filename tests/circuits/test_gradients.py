"""Gradients of the torch engine: backprop and adjoint against finite differences and the
parameter-shift rule, on random circuits with parameter expressions and per-sample weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector

import circuits
from circuits.library import angle_encoding, strongly_entangling_layers

from .helpers import random_circuit, random_pauli_sum


def _loss(qc, obs, values, weights, **opts):
    return (circuits.expval(qc, obs, values, dtype="complex128", **opts) * weights).sum()


def _finite_differences(qc, obs, values, weights, eps=1e-6):
    grad = torch.zeros_like(values)
    with torch.no_grad():
        for idx in np.ndindex(*values.shape):
            up, down = values.clone(), values.clone()
            up[idx] += eps
            down[idx] -= eps
            grad[idx] = (_loss(qc, obs, up, weights) - _loss(qc, obs, down, weights)) / (2 * eps)
    return grad


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("diff_method", ["backprop", "adjoint"])
def test_gradients_match_finite_differences(seed, diff_method):
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(2, 6))
    qc = random_circuit(n, depth=20, rng=rng, n_params=4)
    obs = [random_pauli_sum(n, 3, rng) for _ in range(2)]
    values = torch.tensor(rng.uniform(-np.pi, np.pi, size=(3, qc.num_parameters)), requires_grad=True)
    weights = torch.tensor(rng.normal(size=(3, 2)))
    _loss(qc, obs, values, weights, diff_method=diff_method).backward()
    fd = _finite_differences(qc, obs, values.detach(), weights)
    np.testing.assert_allclose(values.grad.numpy(), fd.numpy(), atol=1e-6)


def test_gradients_match_parameter_shift_rule():
    rng = np.random.default_rng(11)
    n, layers = 4, 2
    qc = angle_encoding(n, "X").compose(strongly_entangling_layers(n, layers))
    obs = ["IIZZ", "XIIY"]
    values = torch.tensor(rng.uniform(-np.pi, np.pi, size=(1, qc.num_parameters)), requires_grad=True)
    weights = torch.tensor([[1.0, -0.5]], dtype=torch.float64)
    _loss(qc, obs, values, weights).backward()
    shift = np.pi / 2  # every parameter enters one Pauli rotation: two-term shift rule
    with torch.no_grad():
        ps = torch.zeros_like(values)
        for j in range(values.shape[1]):
            up, down = values.clone(), values.clone()
            up[0, j] += shift
            down[0, j] -= shift
            ps[0, j] = (_loss(qc, obs, up, weights) - _loss(qc, obs, down, weights)) / 2
    np.testing.assert_allclose(values.grad.numpy(), ps.numpy(), atol=1e-9)


def test_adjoint_equals_backprop_on_a_wide_layer():
    rng = np.random.default_rng(2)
    n = 9
    qc = angle_encoding(n, "Y").compose(strongly_entangling_layers(n, 3))
    obs = [f"{'I' * (n - 1 - q)}Z{'I' * q}" for q in range(n)]
    values = torch.tensor(rng.uniform(size=(5, qc.num_parameters)))
    grads = []
    for method in ("backprop", "adjoint"):
        v = values.clone().requires_grad_(True)
        out = circuits.expval(qc, obs, v, dtype="complex128", diff_method=method)
        (out**2).sum().backward()
        grads.append(v.grad)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-10, rtol=0)


@pytest.mark.parametrize("diff_method", ["backprop", "adjoint"])
def test_per_sample_weights_get_per_sample_gradients(diff_method):
    x = ParameterVector("x", 2)
    th = ParameterVector("theta", 4)
    qc = QuantumCircuit(2)
    qc.ry(x[0], 0)
    qc.ry(x[1], 1)
    qc.rx(th[0], 0)
    qc.rz(th[1] * th[2], 1)
    qc.cx(0, 1)
    qc.ry(th[3], 1)
    rng = np.random.default_rng(0)
    xs = torch.tensor(rng.uniform(size=(3, 2)))
    ws = torch.tensor(rng.uniform(size=(3, 4)), requires_grad=True)
    out = circuits.expval(
        qc, ["ZZ", "XI"], {"x": xs, "theta": ws}, dtype="complex128", diff_method=diff_method
    )
    out.sum().backward()
    for b in range(3):
        wb = ws.detach()[b].clone().requires_grad_(True)
        circuits.expval(qc, ["ZZ", "XI"], {"x": xs[b], "theta": wb}, dtype="complex128").sum().backward()
        torch.testing.assert_close(ws.grad[b], wb.grad)


def test_statevector_is_differentiable():
    t = ParameterVector("t", 1)
    qc = QuantumCircuit(1)
    qc.ry(t[0], 0)
    v = torch.tensor([[0.3]], dtype=torch.float64, requires_grad=True)
    amp = circuits.statevector(qc, v, dtype="complex128")[0, 1].real  # sin(t/2)
    amp.backward()
    assert abs(v.grad.item() - 0.5 * np.cos(0.15)) < 1e-12


def test_large_register_path_without_sign_tables(monkeypatch):
    """The per-term reduction used when sign tables would be too big gives the same values
    and adjoint gradients as the tabulated path."""
    from circuits.engines.torch_engine import measure

    rng = np.random.default_rng(21)
    qc = random_circuit(4, depth=15, rng=rng, n_params=3)
    obs = [random_pauli_sum(4, 4, rng) for _ in range(2)]
    values = torch.tensor(rng.uniform(size=(2, qc.num_parameters)))
    results = []
    for table_bytes in (measure.SIGN_TABLE_BYTES, 0):
        monkeypatch.setattr(measure, "SIGN_TABLE_BYTES", table_bytes)
        v = values.clone().requires_grad_(True)
        out = circuits.expval(qc, obs, v, dtype="complex128", diff_method="adjoint")
        out.sum().backward()
        results.append((out.detach(), v.grad))
    torch.testing.assert_close(results[0][0], results[1][0])
    torch.testing.assert_close(results[0][1], results[1][1])
