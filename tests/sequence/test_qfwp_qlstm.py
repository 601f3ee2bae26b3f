"""QFWP and QLSTM: circuits against PennyLane references, per-sample fast weights, gradients
against finite differences, shapes and bad input."""

from __future__ import annotations

import pytest
import torch

from qml.sequence.qfwp import QFWP
from qml.sequence.qlstm import QLSTM

pnl = pytest.importorskip("pennylane")


def _paper_fast_programmer(n_qubits, depth, a_dim):
    """The paper's ``quantum_net`` (vqFWP_time_series.py) written with PennyLane."""
    dev = pnl.device("default.qubit", wires=n_qubits)

    @pnl.qnode(dev, interface="torch")
    def net(inputs, weights):
        for q in range(n_qubits):
            pnl.Hadamard(wires=q)
        for q, v in enumerate(inputs):
            pnl.RY(v, wires=q)
        for k in range(depth):
            for i in range(0, n_qubits - 1, 2):
                pnl.CNOT(wires=[i, i + 1])
            for i in range(1, n_qubits - 1, 2):
                pnl.CNOT(wires=[i, i + 1])
            for q in range(n_qubits):
                pnl.RY(weights[k, q], wires=q)
        return [pnl.expval(pnl.PauliZ(q)) for q in range(a_dim)]

    return net


def test_qfwp_matches_the_papers_cell_step_by_step():
    torch.manual_seed(0)
    model = QFWP(s_dim=1, dtype="complex128").double()
    x = torch.rand(3, 4, 1, dtype=torch.float64)
    ours = model(x)
    net = _paper_fast_programmer(8, 2, 4)
    theta = torch.zeros(3, 2, 8, dtype=torch.float64)
    for t in range(4):
        h = model.encoder(x[:, t])
        theta = theta + torch.stack(
            [torch.outer(a, b) for a, b in zip(model.layer_head(h), model.qubit_head(h), strict=True)]
        )
        for b in range(3):
            q = torch.stack(net(x[b, t], theta[b]))
            torch.testing.assert_close(ours[b, t], model.post(q.to(torch.float64)), atol=1e-8, rtol=0)


def test_qfwp_fast_weights_are_per_sample_and_gradients_are_exact():
    torch.manual_seed(1)
    model = QFWP(s_dim=2, n_qubits=4, a_dim=2, dtype="complex128").double()
    x = torch.rand(4, 3, 2, dtype=torch.float64)
    batched = model(x)
    for b in range(4):
        torch.testing.assert_close(batched[b], model(x[b : b + 1])[0])
    assert model.last_fast_weights.shape == (1, 2, 4)
    w = model.encoder.weight

    def loss():
        return model(x)[:, -1].pow(2).sum()

    (g,) = torch.autograd.grad(loss(), w)
    h = 1e-6
    for k in range(3):
        w.data.view(-1)[k] += h
        up = loss().item()
        w.data.view(-1)[k] -= 2 * h
        down = loss().item()
        w.data.view(-1)[k] += h
        assert abs((up - down) / (2 * h) - g.view(-1)[k].item()) < 1e-6


def test_qlstm_circuit_matches_pennylane():
    from circuits import QuantumLayer
    from qml.sequence.qlstm import qlstm_circuit

    n, depth = 4, 2
    layer = QuantumLayer(
        qlstm_circuit(n, depth), ["I" * (n - 1 - q) + "Z" + "I" * q for q in range(n)], dtype="complex128"
    )
    v = torch.randn(3, n, dtype=torch.float64)
    ours = layer(torch.cat([torch.atan(v), torch.atan(v * v)], 1))
    dev = pnl.device("default.qubit", wires=n)

    @pnl.qnode(dev, interface="torch")
    def vqc(vec, weights):
        for q in range(n):
            pnl.Hadamard(wires=q)
            pnl.RY(torch.atan(vec[q]), wires=q)
            pnl.RZ(torch.atan(vec[q] ** 2), wires=q)
        for k in range(depth):
            for r in (1, 2):
                for q in range(n):
                    pnl.CNOT(wires=[q, (q + r) % n])
            for q in range(n):
                pnl.Rot(*weights[k, q], wires=q)
        return [pnl.expval(pnl.PauliZ(q)) for q in range(n)]

    w = layer.weights.detach().double().reshape(depth, n, 3)
    for b in range(3):
        torch.testing.assert_close(ours[b].double(), torch.stack(vqc(v[b], w)).double(), atol=1e-6, rtol=0)


@pytest.mark.parametrize("n_vqc", [4, 6])
def test_qlstm_shapes_gradients_and_recurrence(n_vqc):
    torch.manual_seed(2)
    model = QLSTM(1, 3, 1, n_vqc=n_vqc, dtype="complex128").double()
    x = torch.rand(2, 5, 1, dtype=torch.float64)
    y = model(x)
    assert y.shape == (2, 5, 1)
    # the output at step 3 depends on the input at step 0 (memory), not on step 4 (causality)
    x2 = x.clone()
    x2[:, 0] += 0.5
    x3 = x.clone()
    x3[:, 4] += 0.5
    assert (model(x2)[:, 3] - y[:, 3]).abs().max() > 1e-6
    torch.testing.assert_close(model(x3)[:, 3], y[:, 3])
    w = model.gates.weights

    def loss():
        return model(x)[:, -1].pow(2).sum()

    (g,) = torch.autograd.grad(loss(), w)
    h = 1e-6
    for k in (0, 7, 30):
        w.data.view(-1)[k] += h
        up = loss().item()
        w.data.view(-1)[k] -= 2 * h
        down = loss().item()
        w.data.view(-1)[k] += h
        assert abs((up - down) / (2 * h) - g.view(-1)[k].item()) < 1e-6


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="n_vqc"):
        QLSTM(n_vqc=5)
    with pytest.raises(ValueError, match=r"\(B, T, 1\)"):
        QLSTM()(torch.rand(2, 3))
    with pytest.raises(ValueError, match="a_dim"):
        QFWP(a_dim=9)
    with pytest.raises(ValueError, match=r"\(B, T, 1\)"):
        QFWP()(torch.rand(2, 3, 2))
