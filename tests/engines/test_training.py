"""A QuantumLayer trains with a torch optimiser on every engine, and every engine follows the
same training trajectory as the torch engine (same data, same initial weights)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import circuits
from circuits.library import angle_encoding, strongly_entangling_layers

from .cases import ENGINES, NO_TRAINING, engine_params


def _task(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(48, 2))
    y = (np.sin(2 * x[:, 0]) + x[:, 1] > 0).astype(np.float64)
    return torch.tensor(x * np.pi / 2), torch.tensor(y)


def _train(engine: str, steps: int = 25):
    torch.manual_seed(0)
    qc = angle_encoding(2, rotation="ry").compose(strongly_entangling_layers(2, 2))
    layer = circuits.QuantumLayer(qc, ["ZI", "IZ"], engine=engine, **ENGINES[engine][0])
    head = torch.nn.Linear(2, 1, dtype=torch.float64)
    layer.double()
    opt = torch.optim.Adam(list(layer.parameters()) + list(head.parameters()), lr=0.1)
    x, y = _task()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(layer(x))[:, 0], y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = ((head(layer(x))[:, 0] > 0).double() == y).double().mean().item()
    return np.array(losses), acc


@pytest.fixture(scope="module")
def torch_run():
    return _train("torch")


@pytest.mark.parametrize("name", engine_params([e for e in ENGINES if e not in NO_TRAINING]))
def test_layer_trains_like_the_torch_engine(name, torch_run):
    losses, acc = _train(name)
    ref_losses, ref_acc = torch_run
    assert losses[-1] < 0.6 * losses[0]
    assert acc >= 0.85
    np.testing.assert_allclose(losses, ref_losses, atol=1e-6)
    assert acc == ref_acc
