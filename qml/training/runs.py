"""Run folders: atomic writes of JSON and checkpoints, and rebuilding a trained model from a run.

A run folder holds ``run.json`` (model name, model options, dataset, training config),
``model.pt`` (the best weights), ``checkpoint.pt`` (last epoch, for ``--resume``),
``metrics.json`` and PNG plots.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from circuits.errors import KetmlError


class RunNotFoundError(KetmlError, FileNotFoundError):
    """A run folder, or a file a run folder should hold (run.json, model.pt, checkpoint.pt), is missing."""


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, data: Any) -> Path:
    """Write JSON so that a reader never sees a half-written file."""
    text = json.dumps(data, indent=2, default=_jsonable).encode()
    return _atomic(path, lambda fh: fh.write(text))


def save_torch(path: Path, obj: Any) -> Path:
    """``torch.save`` to a temporary file, then rename over ``path``."""
    return _atomic(path, lambda fh: torch.save(obj, fh))


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def new_run_dir(root: Path, model: str, dataset: str | None) -> Path:
    """``root/<model>-<dataset>-<YYYYmmdd-HHMMSS>[-n]/`` (without ``-<dataset>`` when it is
    ``None``), created, never an existing folder."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / "-".join(p for p in (model, dataset, stamp) if p)
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")


def read_run(run_dir: Path) -> dict[str, Any]:
    """The run's ``run.json``; ``FileNotFoundError`` naming the folder if it is not a run."""
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise RunNotFoundError(f"{run_dir} is not a ketml run folder (no run.json in it)")
    return json.loads(path.read_text())
