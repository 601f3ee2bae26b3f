"""One client's local step (mini-batch cross-entropy, FedProx's proximal term) and the helpers
that move model weights in and out of Flower ``ArrayRecord``s with a shape check."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from circuits.errors import ConfigurationError
from qml.registry import get as get_model
from qml.training.config import TrainConfig
from qml.training.evaluation import evaluate_classifier
from qml.training.optim import make_optimizer, update

from .config import FedConfig

__all__ = ["build_model", "check_state", "evaluate", "local_train", "shape_mismatch"]


def build_model(config: FedConfig, dims: dict[str, int]) -> nn.Module:
    """The registered ``vqc`` for ``dims``, its weights seeded by ``config.seed``."""
    return get_model("vqc").build(dims, engine=config.engine, seed=config.seed, **config.model_options())


def shape_mismatch(expected: dict[str, torch.Tensor], got: dict[str, Any]) -> str | None:
    """Why ``got`` (name -> array) cannot be loaded into a model with ``expected``, or ``None``."""
    if set(expected) != set(got):
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        return f"tensors missing {missing}, unexpected {extra}"
    for name, ref in expected.items():
        shape = tuple(got[name].shape)
        if shape != tuple(ref.shape):
            return f"{name} has shape {shape}, expected {tuple(ref.shape)}"
    return None


def check_state(model: nn.Module, state: dict[str, Any], sender: str) -> None:
    """ConfigurationError if ``state`` does not fit ``model`` (the model options differ)."""
    problem = shape_mismatch(model.state_dict(), state)
    if problem is not None:
        raise ConfigurationError(
            f"model shape mismatch with {sender}: {problem}; both sides must use the same "
            "qubits/encoding/degree/layers and dataset"
        )


def local_train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    proximal_mu: float = 0.0,
) -> dict[str, float]:
    """Train in place for ``epochs`` over ``(x, y)``; with ``proximal_mu`` > 0 adds FedProx's
    ``mu / 2 * ||w - w_global||^2`` (``w_global``: the weights on entry). Returns loss, accuracy."""
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    optimizer = make_optimizer(model.parameters(), config)
    anchor = [p.detach().clone() for p in model.parameters()] if proximal_mu > 0 else []
    generator = torch.Generator().manual_seed(seed)
    total, correct, seen = 0.0, 0, 0
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), batch_size):
            idx = order[i : i + batch_size]
            optimizer.zero_grad(set_to_none=True)
            logits = model(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            if anchor:
                prox = sum(((p - a) ** 2).sum() for p, a in zip(model.parameters(), anchor, strict=True))
                loss = loss + proximal_mu / 2 * prox
            total += update(model, loss, optimizer, None, None) * len(idx)
            correct += int((logits.detach().argmax(1) == y[idx]).sum())
            seen += len(idx)
    return {"train_loss": total / max(seen, 1), "train_accuracy": correct / max(seen, 1)}


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, n_classes: int) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``model`` on ``(x, y)``."""
    out = evaluate_classifier(model, x, y, n_classes)
    return {"accuracy": out["accuracy"], "loss": out["loss"]}
