"""Accuracy, mean loss, predictions and confusion matrix of a classifier over tensors."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F


@torch.no_grad()
def predict(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 512, device: str = "cpu"):
    """Logits for ``images`` in batches, in eval mode, on ``device``; returned on the CPU."""
    model.eval()
    out = [
        model(images[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(images), batch_size)
    ]
    return torch.cat(out) if out else torch.empty(0)


def evaluate_classifier(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    n_classes: int,
    *,
    batch_size: int = 512,
    device: str = "cpu",
) -> dict[str, Any]:
    """``{"accuracy", "loss", "confusion" (rows = true class), "predictions"}`` over the tensors."""
    logits = predict(model, images, batch_size, device)
    labels = labels.cpu()
    pred = logits.argmax(1)
    confusion = torch.zeros(n_classes, n_classes, dtype=torch.long)
    confusion.index_put_((labels, pred), torch.ones_like(labels), accumulate=True)
    return {
        "accuracy": float((pred == labels).float().mean()) if len(labels) else float("nan"),
        "loss": float(F.cross_entropy(logits, labels)) if len(labels) else float("nan"),
        "confusion": confusion.tolist(),
        "predictions": pred,
    }
