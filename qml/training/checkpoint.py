"""Saving and restoring a training loop's state (model, optimiser, schedule, RNG, history)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .runs import RunNotFoundError, save_torch


def save_checkpoint(
    path: Path, model, optimizer, scheduler, generator: torch.Generator, **state: Any
) -> None:
    save_torch(
        path,
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "generator": generator.get_state(),
            **state,
        },
    )


def load_checkpoint(
    path: Path, model, optimizer, scheduler, generator: torch.Generator, device="cpu"
) -> dict:
    """Restore the objects in place from ``path``; returns the extra state saved with them."""
    if not Path(path).is_file():
        raise RunNotFoundError(f"cannot resume: {path} does not exist")
    ckpt = torch.load(path, map_location=device, weights_only=False)
    model.load_state_dict(ckpt.pop("model"))
    optimizer.load_state_dict(ckpt.pop("optimizer"))
    sched = ckpt.pop("scheduler")
    if scheduler is not None and sched is not None:
        scheduler.load_state_dict(sched)
    generator.set_state(ckpt.pop("generator"))
    return ckpt
