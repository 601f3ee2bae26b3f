"""The fast QRNN cell (per-word workspace matrices) against the reference cell (rotations of the
full state, step by step): the same probabilities, samples, postselection probabilities, loss and
gradients, to rounding."""

from __future__ import annotations

import pytest
import torch

from qml.sequence.qrnn import QRNN, qrnn_loss
from qml.sequence.qrnn_fast import transfer_matrices


def _run(model, x, y, postselect, mask, reference):
    model.zero_grad(set_to_none=True)
    out = model(x, y, postselect, generator=torch.Generator().manual_seed(5), reference=reference)
    loss = qrnn_loss(out.probs, y, mask)
    loss.backward()
    return out, loss.detach(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize(
    ("input_size", "workspace", "stages", "order", "degree"),
    [(2, 3, 2, 2, 2), (1, 4, 1, 1, 3), (3, 2, 3, 2, 1), (2, 8, 2, 2, 2)],
)
def test_fast_cell_matches_the_reference_in_values_and_gradients(
    input_size, workspace, stages, order, degree
):
    torch.manual_seed(1)
    # wide weight spreads, so the check does not pass merely because every angle is near pi/4
    model = QRNN(
        input_size, workspace, stages, order, degree, weight_spread=0.7, bias_spread=0.7, unitary_spread=0.7
    )
    b, t = 5, 6 if workspace < 8 else 3
    g = torch.Generator().manual_seed(2)
    x = torch.randint(0, 2, (b, t, input_size), generator=g)
    y = torch.randint(0, 2, (b, t, input_size), generator=g)
    mask = torch.rand(b, t, generator=g) < 0.5
    mask[:, -1] = True
    postselect = torch.rand(b, t, generator=g) < 0.6  # teacher forcing on some steps, sampling on others
    ref, ref_loss, ref_grads = _run(model, x, y, postselect, mask, reference=True)
    fast, fast_loss, fast_grads = _run(model, x, y, postselect, mask, reference=False)
    assert torch.allclose(fast.probs, ref.probs, atol=1e-12, rtol=0)
    assert torch.equal(fast.measured, ref.measured)
    assert torch.allclose(fast.postselection_probs, ref.postselection_probs, atol=1e-12, rtol=0)
    assert abs(float(fast_loss - ref_loss)) < 1e-12
    scale = max(float(g.abs().max()) for g in ref_grads)
    assert scale > 1e-3  # the gradients compared are not all zero
    for a, r in zip(fast_grads, ref_grads, strict=True):
        assert torch.allclose(a, r, atol=1e-11 * max(scale, 1.0), rtol=0)


def test_transfer_matrices_are_the_steps_linear_maps():
    """``M[v]`` is the input and kernel layers on the workspace for input word ``v``; with the
    output factors ``D`` it reproduces one reference step's unnormalised amplitudes."""
    torch.manual_seed(3)
    model = QRNN(2, 3, 2, 2, 2, weight_spread=0.5, bias_spread=0.5, unitary_spread=0.5)
    mats, diag = transfer_matrices(model)
    assert mats.shape == (4, 8, 8) and diag.shape == (4, 8)
    h = torch.randn(1, 8, dtype=torch.float64)
    h = h / h.norm()
    for v in range(4):
        bits = torch.tensor([[v >> 1, v & 1]])
        psi = torch.zeros(1, 2, 2, 2, 2, 2, dtype=torch.float64)
        psi[0, 0, 0] = h.reshape(2, 2, 2)
        probs, state = model.step(psi, bits)
        a = (h @ mats[v]) * diag  # (4, 8): one row per output word
        norm = a.square().sum().sqrt()
        assert torch.allclose(state.reshape(4, 8), a / norm, atol=1e-13)
        assert torch.allclose(probs[0], a.square().sum(1) / norm**2, atol=1e-13)
