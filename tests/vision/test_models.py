"""The hybrid image classifiers: shapes, parameter counts, gradients, and cross-checks of the
quantum blocks against PennyLane and against per-patch / per-circuit evaluation."""

from __future__ import annotations

import math

import pytest
import torch

from circuits import ParallelQuantumLayer, QuantumLayer, statevector
from circuits.library import amplitude_angles, amplitude_encoding
from qml.vision import (
    EnhancedClassicalCNN,
    HQNNParallel,
    HQNNParallelClassical,
    HQNNQuanv,
    HQNNQuanvClassical,
    HybridCNN,
    Normalize,
    Quanvolution,
)
from qml.vision.hqnn import parallel_circuit

IMAGE = (1, 28, 28)


def _grads_all(model, x):
    model.train()
    model(x).sum().backward()
    return {name: p.grad for name, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize(
    "cls, kwargs, shape, n_out",
    [
        (HQNNParallel, {}, (4, *IMAGE), 10),
        (HQNNParallelClassical, {}, (4, *IMAGE), 10),
        (HQNNQuanv, {}, (4, *IMAGE), 10),
        (HQNNQuanvClassical, {}, (4, *IMAGE), 10),
        (HybridCNN, {}, (4, *IMAGE), 10),
        (EnhancedClassicalCNN, {}, (4, *IMAGE), 10),
        (
            HybridCNN,
            {"n_classes": 100, "in_channels": 3, "image_size": 32, "dataset": "cifar100"},
            (3, 3, 32, 32),
            100,
        ),
        (
            EnhancedClassicalCNN,
            {"n_classes": 100, "in_channels": 3, "image_size": 32, "dataset": "cifar100"},
            (3, 3, 32, 32),
            100,
        ),
        (HybridCNN, {"in_channels": 3, "image_size": 96, "dataset": "stl10"}, (2, 3, 96, 96), 10),
        (EnhancedClassicalCNN, {"in_channels": 3, "image_size": 96, "dataset": "stl10"}, (2, 3, 96, 96), 10),
    ],
)
def test_shapes_and_every_weight_gets_a_gradient(cls, kwargs, shape, n_out):
    torch.manual_seed(0)
    model = cls(**kwargs)
    x = torch.rand(*shape)
    assert model(x).shape == (shape[0], n_out)
    grads = _grads_all(model, x)
    missing = [name for name, g in grads.items() if g is None or not torch.isfinite(g).all()]
    assert not missing
    zero = [name for name, g in grads.items() if g.abs().sum() == 0 and "bias" not in name]
    assert not zero, f"weights without gradient signal: {zero}"


def test_quantum_weights_are_trained_in_the_hybrid_models():
    for model in (HQNNParallel(), HQNNQuanv(), HybridCNN()):
        quantum = [m for m in model.modules() if isinstance(m, (QuantumLayer, ParallelQuantumLayer))]
        assert quantum
        grads = _grads_all(model, torch.rand(3, *IMAGE))
        names = [n for n in grads if n.endswith("weights") and ("quantum" in n or "quanv" in n)]
        assert names and all(grads[n].abs().sum() > 0 for n in names)


def test_parameter_counts_match_the_papers():
    hqnn, twin = HQNNParallel(), HQNNParallelClassical()
    quantum = sum(p.numel() for p in hqnn.quantum.parameters())
    assert quantum == 4 * 3 * 5 * 3 == 180
    count = lambda m: sum(p.numel() for p in m.parameters() if p.requires_grad)  # noqa: E731
    assert count(hqnn) < count(twin)
    assert count(hqnn) - quantum == count(twin) - (20 * 20 + 20)
    # HQNN-Quanv: 16 quantum weights + Linear(196 -> 10); CNN4 about the same size
    assert count(HQNNQuanv()) == 16 + 196 * 10 + 10
    assert count(HQNNQuanvClassical()) == 4 * 16 + 4 + 196 * 10 + 10
    # arXiv 2509.13353: the hybrid is 6-32 % smaller than the classical CNN
    for kwargs in ({}, {"n_classes": 100, "in_channels": 3, "image_size": 32, "dataset": "cifar100"}):
        h, c = count(HybridCNN(**kwargs)), count(EnhancedClassicalCNN(**kwargs))
        assert 0.05 < 1 - h / c < 0.35


def test_hqnn_parallel_quantum_block_matches_pennylane():
    pnl = pytest.importorskip("pennylane")
    torch.manual_seed(1)
    layer = ParallelQuantumLayer(
        parallel_circuit(5, 3), ["I" * (4 - q) + "Y" + "I" * q for q in range(5)], 4, dtype="complex128"
    )
    x = torch.rand(6, 20, dtype=torch.float64) * 3
    ours = layer(x)
    dev = pnl.device("default.qubit", wires=5)

    @pnl.qnode(dev, interface="torch")
    def circuit(inputs, weights):
        pnl.AngleEmbedding(inputs, wires=range(5), rotation="X")
        pnl.StronglyEntanglingLayers(weights, wires=range(5), ranges=[1, 2, 3])
        return [pnl.expval(pnl.PauliY(i)) for i in range(5)]

    ref = torch.cat(
        [
            torch.stack(
                circuit(x[:, 5 * g : 5 * g + 5], layer.weights[g].detach().double().reshape(3, 5, 3)), dim=1
            )
            for g in range(4)
        ],
        dim=1,
    )
    torch.testing.assert_close(ours.double(), ref.double(), atol=1e-6, rtol=0)


def test_parallel_layer_keeps_copies_independent():
    torch.manual_seed(2)
    layer = ParallelQuantumLayer(parallel_circuit(3, 2), ["IIZ", "IZI", "ZII"], 3)
    x = torch.rand(5, 9, requires_grad=True)
    out = layer(x)
    # output group g depends on inputs of group g only
    (jac,) = torch.autograd.grad(out[:, 3:6].sum(), x)
    assert jac[:, :3].abs().max() == 0 and jac[:, 6:].abs().max() == 0 and jac[:, 3:6].abs().max() > 0
    # and on the weights of copy g only
    (gw,) = torch.autograd.grad(layer(x.detach())[:, 6:].sum(), layer.weights)
    assert gw[:2].abs().max() == 0 and gw[2].abs().max() > 0
    with pytest.raises(ValueError, match="copies"):
        ParallelQuantumLayer(parallel_circuit(3, 1), ["IIZ"], 0)
    with pytest.raises(ValueError, match=r"\(B, 9\)"):
        layer(torch.rand(2, 8))


def test_quanvolution_equals_the_circuit_on_each_patch():
    torch.manual_seed(3)
    quanv = Quanvolution(1, kernel_size=2, stride=2, n_layers=2)
    images = torch.rand(2, 1, 6, 6)
    out = quanv(images)
    assert out.shape == (2, 4, 3, 3)
    for b, i, j in [(0, 0, 0), (1, 2, 1), (0, 1, 2)]:
        patch = images[b, 0, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].reshape(1, 4) * math.pi
        expected = quanv.circuit(patch)[0]
        torch.testing.assert_close(out[b, :, i, j], expected)
    # a change inside one patch moves only that output position
    changed = images.clone()
    changed[1, 0, 4, 1] += 0.3
    delta = (quanv(changed) - out).abs().sum(1)
    assert delta[0].max() == 0 and delta[1, 2, 0] > 0 and (delta[1] > 0).sum() == 1


def test_quanvolution_rejects_bad_input():
    with pytest.raises(ValueError, match="qubits"):
        Quanvolution(3, kernel_size=3)
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        Quanvolution(1)(torch.rand(2, 3, 8, 8))


def test_hybrid_cnn_prepares_the_normalised_softmax_vector():
    torch.manual_seed(4)
    model = HybridCNN().double()
    x = torch.rand(3, *IMAGE, dtype=torch.float64)
    amps = model.amplitudes(x)
    assert torch.allclose(amps.sum(1), torch.ones(3, dtype=torch.float64))
    angles = amplitude_angles(amps, 4)
    state = statevector(amplitude_encoding(4), angles, dtype="complex128")
    torch.testing.assert_close(state.real, amps / amps.norm(dim=1, keepdim=True), atol=1e-10, rtol=0)


def test_hybrid_cnn_gradient_matches_finite_differences():
    torch.manual_seed(5)
    model = HybridCNN(dtype="complex128").double().eval()
    x = torch.rand(2, *IMAGE, dtype=torch.float64)
    w = model.quantum.weights
    loss = lambda: model(x).pow(2).sum()  # noqa: E731
    (grad,) = torch.autograd.grad(loss(), w)
    h = 1e-6
    for k in range(w.numel()):
        with torch.no_grad():
            w[k] += h
            up = loss()
            w[k] -= 2 * h
            down = loss()
            w[k] += h
        assert abs((up - down).item() / (2 * h) - grad[k].item()) < 1e-6


def test_normalize_round_trip_and_dataset_statistics():
    norm = Normalize.for_dataset("cifar10", 3)
    x = torch.rand(2, 3, 4, 4)
    torch.testing.assert_close(norm.inverse(norm(x)), x)
    assert norm.mean.flatten().tolist() == pytest.approx([0.4914, 0.4822, 0.4465])
    grey = Normalize.for_dataset("unknown-set", 1)
    assert grey(torch.full((1, 1, 1, 1), 0.5)).item() == 0.0
    with pytest.raises(ValueError, match="std"):
        Normalize([0.5], [0.0])
