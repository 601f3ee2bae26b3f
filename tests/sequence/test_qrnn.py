"""QRNN: the fast implementation against the circuit version (ancillas, postselection) run on the
torch engine; batching; gradients against finite differences; loss; bad input."""

from __future__ import annotations

import math

import pytest
import torch

from circuits import statevector
from qml.sequence.qrnn import QRNN, QuantumNeuron, qrnn_circuit, qrnn_loss


def _circuit_probs(model: QRNN, inputs: torch.Tensor, outcomes: torch.Tensor, step: int) -> torch.Tensor:
    """p(y_step) from the circuit version: in/out marginal of the engine's state vector."""
    qc = qrnn_circuit(model, inputs, outcomes, steps=step)
    sv = statevector(qc, dtype="complex128")[0]
    n = model.n_qubits
    psi = sv.reshape([2] * n).permute(*reversed(range(n)))  # dims in lane order
    probs = psi.abs().square().sum(dim=tuple(range(model.input_size, n)))
    return probs.flatten()


@pytest.mark.parametrize(
    "input_size, workspace, stages, order, degree",
    [(1, 2, 1, 1, 1), (1, 2, 1, 2, 2), (2, 2, 1, 2, 3), (1, 3, 2, 3, 2)],
)
def test_fast_and_circuit_versions_agree(input_size, workspace, stages, order, degree):
    torch.manual_seed(10 * order + degree)
    model = QRNN(
        input_size, workspace, stages, order, degree, weight_spread=1.0, bias_spread=1.0, unitary_spread=1.0
    )
    steps = 3
    inputs = torch.randint(0, 2, (2, steps, input_size))
    targets = torch.randint(0, 2, (2, steps, input_size))
    out = model(inputs, targets, postselect=True)
    for b in range(2):
        for t in range(steps):
            expected = _circuit_probs(model, inputs[b], targets[b], t)
            torch.testing.assert_close(out.probs[b, t], expected, atol=1e-6, rtol=0)


def test_neuron_applies_the_rus_map_per_basis_state():
    torch.manual_seed(0)
    neuron = QuantumNeuron(outlane=0, sources=[1], n_lanes=2, order=2, degree=1, weight_spread=1.0)
    psi = torch.zeros(1, 2, 2, dtype=torch.float64)
    psi[0, 0, 1] = 1.0  # out lane 0 in |0>, source lane 1 in |1>
    out = neuron(psi)
    theta = 0.5 * (neuron.phi[0] + neuron.theta + math.pi / 2)
    c, s = torch.cos(theta) ** 4, torch.sin(theta) ** 4
    expected = torch.stack([c, s]) / torch.sqrt(c * c + s * s)
    torch.testing.assert_close(out[0, :, 1], expected)
    assert out[0, :, 0].abs().max() == 0


def test_batch_equals_single_sequences_and_sampling_is_valid():
    torch.manual_seed(1)
    model = QRNN(2, 3, 1, 2, 2, weight_spread=0.5, bias_spread=0.5)
    inputs = torch.randint(0, 2, (4, 5, 2))
    targets = torch.randint(0, 2, (4, 5, 2))
    batched = model(inputs, targets, True)
    for b in range(4):
        single = model(inputs[b : b + 1], targets[b : b + 1], True)
        torch.testing.assert_close(batched.probs[b], single.probs[0])
    assert torch.allclose(batched.probs.sum(-1), torch.ones(4, 5, dtype=torch.float64))
    assert (batched.measured == targets).all()
    sampled = model(inputs, None, False, generator=torch.Generator().manual_seed(0))
    assert set(sampled.measured.unique().tolist()) <= {0, 1}
    assert (sampled.postselection_probs == 1).all()
    assert 0 < batched.min_postselection_prob <= 1


def test_gradient_matches_finite_differences():
    torch.manual_seed(2)
    model = QRNN(1, 2, 1, 2, 2, weight_spread=0.7, bias_spread=0.7, unitary_spread=0.7)
    inputs = torch.randint(0, 2, (3, 4, 1))
    targets = torch.randint(0, 2, (3, 4, 1))

    def loss() -> torch.Tensor:
        return qrnn_loss(model(inputs, targets, True).probs, targets)

    params = [model.input_layer[0].phi, model.unitaries[0], model.output_layer[0].theta]
    grads = torch.autograd.grad(loss(), params)
    h = 1e-6
    for p, g in zip(params, grads, strict=True):
        flat, gflat = p.data.view(-1), g.reshape(-1)
        for k in range(min(flat.numel(), 3)):
            flat[k] += h
            up = loss().item()
            flat[k] -= 2 * h
            down = loss().item()
            flat[k] += h
            assert abs((up - down) / (2 * h) - gflat[k].item()) < 1e-6


def test_loss_is_zero_for_a_perfect_prediction_and_masks_steps():
    probs = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    targets = torch.tensor([[[0], [1]]])
    assert abs(qrnn_loss(probs, targets).item()) < 1e-12
    wrong = torch.tensor([[[0], [0]]])
    mask = torch.tensor([[True, False]])
    assert abs(qrnn_loss(probs, wrong, mask).item()) < 1e-12
    assert qrnn_loss(probs, wrong).item() > 0.1


def test_bad_input_is_named():
    model = QRNN(2, 2, 1, 1, 1)
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        model(torch.zeros(1, 3, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="targets"):
        model(torch.zeros(1, 3, 2, dtype=torch.long), None, True)
    with pytest.raises(ValueError, match=">= 1"):
        QRNN(1, 0)
