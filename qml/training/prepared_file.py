"""A task's loaded data in one file: prepare once (tokenizers, encodings, grammar masks can take
minutes of single-threaded Python), train elsewhere (a lent GPU machine) from the file.

The file holds the :class:`~qml.training.task.Prepared` object beside the key it was loaded with
(task, dataset, seed, subsets, data options); :func:`load_prepared` refuses a file whose key
differs from the run's, so the data a run records is the data it trained on.
"""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path
from typing import Any

from circuits.errors import ConfigurationError, DataError

from .task import Prepared

__all__ = ["load_or_read", "load_prepared", "prepared_key", "save_prepared"]

#: the format written by :func:`save_prepared`
FORMAT = "ketml-prepared-1"  # a gzipped pickle of {"format", "key", "prepared"}


def prepared_key(task: str, dataset: str, **load_args: Any) -> dict[str, Any]:
    """What identifies a task's loaded data: its name, the dataset and every argument of ``load``
    but ``data_root`` (where the files lie on one machine)."""
    return {
        "task": task,
        "dataset": dataset,
        **{k: load_args[k] for k in sorted(load_args) if k != "data_root"},
        "data_root": None,
    }


def save_prepared(path: str | os.PathLike, key: dict[str, Any], prepared: Prepared) -> Path:
    """Write ``prepared`` with its ``key`` to ``path``: a gzipped pickle (grammar masks are large and
    compress about tenfold), atomically (a ``.part`` file renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with gzip.open(tmp, "wb", compresslevel=1) as f:
        pickle.dump({"format": FORMAT, "key": key, "prepared": prepared}, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return path


def load_prepared(path: str | os.PathLike, key: dict[str, Any]) -> Prepared:
    """The prepared data in ``path``, checked to have been loaded with ``key``."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            saved = pickle.load(f)
    except FileNotFoundError:
        raise DataError(f"no prepared data file at {path}") from None
    except (OSError, gzip.BadGzipFile, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise DataError(
            f"{path} is not a readable prepared data file ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise DataError(f"{path} is not a ketml prepared data file (format {FORMAT})")
    if saved["key"] != key:
        differ = sorted(k for k in set(saved["key"]) | set(key) if saved["key"].get(k) != key.get(k))
        shown = "; ".join(f"{k}: file {saved['key'].get(k)!r}, run {key.get(k)!r}" for k in differ)
        raise ConfigurationError(f"{path} holds data loaded with other options ({shown})")
    return saved["prepared"]


def load_or_read(
    task, dataset: str, load_args: dict[str, Any], prepared_file: str | os.PathLike | None
) -> Prepared:
    """``task.load(dataset, **load_args)``; with ``prepared_file``, read from it when it exists
    (checked against the key), else loaded and written there."""
    if prepared_file is None:
        return task.load(dataset, **load_args)
    key = prepared_key(task.name, dataset, **load_args)
    if Path(prepared_file).is_file():
        return load_prepared(prepared_file, key)
    prepared = task.load(dataset, **load_args)
    save_prepared(prepared_file, key, prepared)
    return prepared
