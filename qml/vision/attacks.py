"""Adversarial attacks on image classifiers, and robust accuracy.

``fgsm`` and ``pgd`` work in [0, 1] pixel space (the models normalise inside), L-infinity ball
of radius ``eps``, so epsilon means pixel intensity. ``pgd_normalized`` reproduces the protocol
of arXiv 2509.13353 (torchattacks PGD run on *normalised* inputs, clamped to [0, 1]) so its
numbers can be compared; that protocol's clamp discards negative normalised values, which is why
its robust accuracies are not pixel-space robustness.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from circuits.errors import ConfigurationError

from .normalize import Normalize

ATTACKS = ("none", "fgsm", "pgd", "pgd-paper")


def _input_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, eps: float) -> torch.Tensor:
    """Fast gradient sign method (Goodfellow et al. 2015): one step of size ``eps``, clamped to [0, 1]."""
    grad = _input_grad(model, images, labels)
    return (images + eps * grad.sign()).clamp(0, 1).detach()


def pgd(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    eps: float,
    alpha: float = 0.01,
    steps: int = 10,
    *,
    random_start: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018) in the L-inf ball of radius ``eps`` and [0, 1]."""
    x0 = images.detach()
    x = x0
    if random_start:
        noise = torch.rand(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
        x = (x0 + (noise * 2 - 1) * eps).clamp(0, 1)
    for _ in range(steps):
        x = x + alpha * _input_grad(model, x, labels).sign()
        x = (x0 + (x - x0).clamp(-eps, eps)).clamp(0, 1).detach()
    return x


def _normalizer(model: nn.Module):
    for module in model.modules():
        if isinstance(module, Normalize):
            return module
    return None


def pgd_normalized(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    eps: float = 0.1,
    alpha: float = 0.01,
    steps: int = 10,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The paper's PGD: torchattacks ``PGD(eps, alpha, steps)`` applied to the *normalised* images,
    with its [0, 1] clamp; returns the pixel-space images the model then sees."""
    norm = _normalizer(model)
    if norm is None:  # the model does not normalise: the protocol is plain PGD
        return pgd(model, images, labels, eps, alpha, steps, generator=generator)

    def on_normalised(z: torch.Tensor) -> torch.Tensor:
        return model(norm.inverse(z))

    z0 = norm(images).detach()
    noise = torch.rand(z0.shape, generator=generator, dtype=z0.dtype).to(z0.device)
    z = (z0 + (noise * 2 - 1) * eps).clamp(0, 1)
    for _ in range(steps):
        z = z + alpha * _input_grad(on_normalised, z, labels).sign()
        z = (z0 + (z - z0).clamp(-eps, eps)).clamp(0, 1).detach()
    return norm.inverse(z).detach()


def attack_batch(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    attack: str,
    eps: float,
    alpha: float,
    steps: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    if attack == "none":
        return images
    if attack == "fgsm":
        return fgsm(model, images, labels, eps)
    if attack == "pgd":
        return pgd(model, images, labels, eps, alpha, steps, generator=generator)
    if attack == "pgd-paper":
        return pgd_normalized(model, images, labels, eps, alpha, steps, generator=generator)
    raise ConfigurationError(f"attack must be one of {ATTACKS}; got {attack!r}")


def robust_accuracy(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    attack: str = "pgd",
    eps: float = 0.1,
    alpha: float = 0.01,
    steps: int = 10,
    *,
    batch_size: int = 256,
    device: str = "cpu",
    seed: int = 0,
    progress: bool = False,
) -> float:
    """Accuracy on adversarial examples crafted per batch against ``model`` (in eval mode)."""
    if attack not in ATTACKS:
        raise ConfigurationError(f"attack must be one of {ATTACKS}; got {attack!r}")
    if eps < 0 or alpha <= 0 or steps < 1:
        raise ConfigurationError(f"need eps >= 0, alpha > 0, steps >= 1; got {eps}, {alpha}, {steps}")
    from tqdm.auto import tqdm

    model.eval()
    gen = torch.Generator().manual_seed(seed)
    correct = 0
    starts = range(0, len(images), batch_size)
    for i in tqdm(starts, desc=f"attack {attack} eps={eps}", disable=not progress, leave=False):
        x = images[i : i + batch_size].to(device)
        y = labels[i : i + batch_size].to(device)
        adv = attack_batch(model, x, y, attack, eps, alpha, steps, gen)
        with torch.no_grad():
            correct += int((model(adv).argmax(1) == y).sum())
    return correct / max(len(images), 1)
