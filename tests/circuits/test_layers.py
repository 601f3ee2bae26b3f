"""QuantumLayer as a torch module: shapes, training, state_dict, devices, per-sample weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector

import circuits
from circuits import QuantumLayer
from circuits.errors import ParameterError
from circuits.library import angle_encoding, strongly_entangling_layers


def _circuit(n=3, layers=2):
    return angle_encoding(n, "Y").compose(strongly_entangling_layers(n, layers))


def _z(n):
    return [f"{'I' * (n - 1 - q)}Z{'I' * q}" for q in range(n)]


def test_output_matches_functional_api():
    qc = _circuit()
    layer = QuantumLayer(qc, _z(3), dtype="complex128")
    assert layer.n_inputs == 3 and layer.n_weights == 18
    assert torch.all((layer.weights >= 0) & (layer.weights < 2 * math.pi))
    x = torch.rand(5, 3, dtype=torch.float64)
    out = layer(x)
    assert out.shape == (5, 3)
    want = circuits.expval(qc, _z(3), {"x": x, "theta": layer.weights.detach()}, dtype="complex128")
    torch.testing.assert_close(out.detach(), want)


def test_training_reduces_loss():
    torch.manual_seed(0)
    n = 3
    model = torch.nn.Sequential(
        torch.nn.Linear(4, n), QuantumLayer(_circuit(n), _z(n)), torch.nn.Linear(n, 1)
    )
    x = torch.rand(32, 4)
    y = (x.sum(dim=1, keepdim=True) > 2).float()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert model[1].weights.grad is not None and model[1].weights.grad.abs().sum() > 0


def test_state_dict_round_trip():
    layer = QuantumLayer(_circuit(), _z(3))
    other = QuantumLayer(_circuit(), _z(3))
    assert not torch.equal(layer.weights, other.weights)
    other.load_state_dict(layer.state_dict())
    x = torch.rand(4, 3)
    torch.testing.assert_close(layer(x), other(x))
    assert set(layer.state_dict()) == {"weights"}


def test_per_sample_weights_override():
    layer = QuantumLayer(_circuit(2, 1), _z(2), dtype="complex128")
    x = torch.rand(3, 2, dtype=torch.float64)
    w = torch.rand(3, layer.n_weights, dtype=torch.float64, requires_grad=True)
    out = layer(x, weights=w)
    for b in range(3):
        single = layer(x[b : b + 1], weights=w[b].detach())
        torch.testing.assert_close(out[b : b + 1].detach(), single.detach())
    out.sum().backward()
    assert w.grad.shape == w.shape


def test_shared_weight_gradient_equals_per_sample_sum():
    layer = QuantumLayer(_circuit(3, 2), _z(3), dtype="complex128")
    x = torch.rand(6, 3, dtype=torch.float64)
    layer(x).pow(2).sum().backward()
    w = layer.weights.detach().expand(6, -1).clone().requires_grad_(True)
    layer(x, weights=w).pow(2).sum().backward()
    torch.testing.assert_close(layer.weights.grad, w.grad.sum(dim=0))


def test_initial_weights_and_bad_shapes():
    qc = _circuit(2, 1)
    w0 = torch.linspace(0, 1, 6)
    layer = QuantumLayer(qc, _z(2), initial_weights=w0)
    torch.testing.assert_close(layer.weights.detach(), w0)
    with pytest.raises(ParameterError, match="initial_weights"):
        QuantumLayer(qc, _z(2), initial_weights=torch.zeros(5))
    with pytest.raises(ParameterError, match="shape \\(B, 2\\)"):
        layer(torch.zeros(4, 3))
    stray = QuantumCircuit(1)
    stray.rx(ParameterVector("phi", 1)[0], 0)
    with pytest.raises(ParameterError, match="neither inputs"):
        QuantumLayer(stray, "Z")


def test_weights_only_layer_without_inputs():
    th = ParameterVector("theta", 1)
    qc = QuantumCircuit(1)
    qc.ry(th[0], 0)
    layer = QuantumLayer(qc, "Z", inputs=None, initial_weights=torch.tensor([np.pi / 3]))
    out = layer()
    assert abs(out.item() - 0.5) < 1e-6


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_layer_moves_to_cuda():
    layer = QuantumLayer(_circuit(), _z(3)).to("cuda")
    out = layer(torch.rand(4, 3, device="cuda"))
    assert out.device.type == "cuda"
