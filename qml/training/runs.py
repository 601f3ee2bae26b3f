"""Run folders: atomic writes and defensive reads of JSON and checkpoints, and run.json.

A run folder holds ``run.json`` (model name, model options, dataset, training config),
``model.pt`` (the best weights), ``checkpoint.pt`` (last epoch, for ``--resume``),
``metrics.json`` and PNG plots.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from circuits.errors import KetmlError
from circuits.files import CorruptFileError, atomic_write, read_json, set_aside
from circuits.files import write_json as _write_json


class RunNotFoundError(KetmlError, FileNotFoundError):
    """A run folder, or a file a run folder should hold (run.json, model.pt, checkpoint.pt), is missing."""


class RunFileWarning(UserWarning):
    """A file of a run folder could not be used and was set aside (named in the message)."""


def write_json(path: Path, data: Any) -> Path:
    """Write JSON so that a reader never sees a half-written file (tensors and paths allowed)."""
    return _write_json(path, data, default=_jsonable)


def save_torch(path: Path, obj: Any) -> Path:
    """``torch.save`` to a temporary file, then rename over ``path``."""
    return atomic_write(path, lambda fh: torch.save(obj, fh))


def load_torch(path: Path, device: Any = "cpu", what: str = "weights") -> Any:
    """``torch.load(path, weights_only=True)`` with a one-line error naming a missing or corrupt file."""
    path = Path(path)
    if not path.is_file():
        raise RunNotFoundError(f"{path} does not exist")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:
        raise CorruptFileError(
            f"{path} is corrupt or not a ketml {what} file ({type(exc).__name__}); it cannot be "
            f"loaded: {_recovery(path)}"
        ) from None


def _recovery(path: Path) -> str:
    """What to do about a corrupt file of a run folder."""
    return "restore it from a backup, or train the run again (ketml train with the settings in run.json)"


def append_json_list(path: Path, entry: Any) -> Path:
    """Append ``entry`` to the JSON list in ``path`` (created if missing), atomically. A file
    there that is not a readable JSON list is set aside under a new name (with a
    :class:`RunFileWarning` naming it), never overwritten."""
    path = Path(path)
    previous: list = []
    if path.exists():
        try:
            previous = read_json(path, list)
        except CorruptFileError as exc:
            moved = set_aside(path)
            note = f"{exc}; kept it as {moved} and started a new {path.name}"
            warnings.warn(note, RunFileWarning, stacklevel=2)
    return write_json(path, [*previous, entry])


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


#: what run.json must hold for a run to be rebuilt
RUN_KEYS = ("model", "dataset", "engine", "model_options", "config")


def read_run(run_dir: Path) -> dict[str, Any]:
    """The run's ``run.json``; ``FileNotFoundError`` naming the folder if it is not a run, a
    :class:`CorruptFileError` naming the file if it cannot be read or lacks what a run records."""
    run_dir = Path(run_dir)
    path = run_dir / "run.json"
    if not run_dir.is_dir():
        what = "is a file" if run_dir.exists() else "does not exist"
        raise RunNotFoundError(f"{run_dir} is not a ketml run folder (it {what})")
    if not path.is_file():
        raise RunNotFoundError(f"{run_dir} is not a ketml run folder (no run.json in it)")
    hint = "restore it from a backup, or train the run again (ketml train writes a new run folder)"
    saved = read_json(path, dict, hint)
    missing = [k for k in RUN_KEYS if k not in saved]
    if missing:
        raise CorruptFileError(f"{path} lacks {', '.join(missing)}; {hint}")
    return saved
