"""Saving and restoring a training loop's state (model, optimiser, schedule, RNG, history)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from circuits.files import CorruptFileError

from .runs import RunNotFoundError, load_torch, save_torch


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
    """Restore the objects in place from ``path`` (read with ``weights_only=True``: a checkpoint
    holds tensors and plain values only); returns the extra state saved with them."""
    if not Path(path).is_file():
        raise RunNotFoundError(f"cannot resume: {path} does not exist")
    ckpt = load_torch(path, device, "checkpoint")
    try:
        model.load_state_dict(ckpt.pop("model"))
        optimizer.load_state_dict(ckpt.pop("optimizer"))
        sched = ckpt.pop("scheduler")
        if scheduler is not None and sched is not None:
            scheduler.load_state_dict(sched)
        generator.set_state(ckpt.pop("generator").cpu())
        ckpt["epoch"], ckpt["history"]  # noqa: B018 - what every checkpoint records
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise CorruptFileError(
            f"{path} does not match this run's model and settings ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else 'missing entry'}); it cannot be resumed: "
            "restore it from a backup, or train the run again"
        ) from None
    return ckpt
