"""FGSM and PGD: closed-form cases on a linear model, the epsilon ball, and the paper's protocol."""

from __future__ import annotations

import torch
from torch import nn

from qml.vision import Normalize
from qml.vision.attacks import fgsm, pgd, pgd_normalized, robust_accuracy


def _linear(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    return model.eval()


def test_fgsm_steps_along_the_sign_of_the_loss_gradient():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2)).eval()
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, -2.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0]]))
        model[1].bias.zero_()
    x = torch.full((1, 1, 2, 2), 0.5)
    # label 0: the loss falls when logit 0 rises, so FGSM moves against w_0's sign
    adv = fgsm(model, x, torch.tensor([0]), eps=0.1)
    torch.testing.assert_close(adv.flatten(), torch.tensor([0.4, 0.6, 0.4, 0.5]))


def test_pgd_stays_in_the_ball_and_in_pixel_range_and_raises_the_loss():
    model = _linear()
    x = torch.rand(32, 1, 4, 4)
    y = model(x).argmax(1)
    adv = pgd(model, x, y, eps=0.05, alpha=0.01, steps=10, generator=torch.Generator().manual_seed(0))
    assert (adv - x).abs().max() <= 0.05 + 1e-6
    assert adv.min() >= 0 and adv.max() <= 1
    loss = nn.functional.cross_entropy
    assert loss(model(adv), y) > loss(model(x), y)
    # a big enough ball flips some predictions; robust accuracy never beats clean accuracy
    clean = robust_accuracy(model, x, y, "none")
    robust = robust_accuracy(model, x, y, "pgd", eps=0.5, alpha=0.1, steps=20)
    assert clean == 1.0 and robust < clean


def test_paper_protocol_is_pgd_on_normalised_inputs_with_its_clamp():
    model = _linear(1)
    x = torch.rand(8, 1, 4, 4)
    y = model(x).argmax(1)
    # with mean 0 / std 1 normalisation the protocol is plain PGD, step for step
    identity = nn.Sequential(Normalize([0.0], [1.0]), model).eval()
    a = pgd_normalized(identity, x, y, 0.1, 0.01, 5, generator=torch.Generator().manual_seed(3))
    b = pgd(identity, x, y, 0.1, 0.01, 5, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)
    # with MNIST statistics the clamp to [0, 1] acts on normalised values: dark pixels
    # (normalised about -0.42) are pushed up to at least 0 in normalised units
    mnist = nn.Sequential(Normalize([0.1307], [0.3081]), model).eval()
    dark = torch.zeros(2, 1, 4, 4)
    adv = pgd_normalized(mnist, dark, model(dark).argmax(1), 0.1, 0.01, 3)
    assert adv.min() >= 0.1307 - 1e-6  # normalised value >= 0  <=>  pixel >= mean
