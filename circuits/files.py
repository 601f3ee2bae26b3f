"""Files the toolkit owns (run folders, result JSON, the job registry's payloads): written
atomically, read defensively.

A writer never leaves a half-written file behind (temporary file in the same folder, flushed,
then renamed over the target); a reader names the file and says what to do when it is missing,
truncated, not JSON or of the wrong shape, instead of a bare ``JSONDecodeError``. A file of the
user's that is in the way is set aside under a new name, never overwritten.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from .errors import ConfigurationError, KetmlError

__all__ = [
    "CorruptFileError",
    "atomic_write",
    "check_output_dir",
    "check_output_file",
    "read_json",
    "set_aside",
    "write_json",
]


class CorruptFileError(KetmlError, ValueError):
    """A file the toolkit wrote earlier cannot be read back (truncated, not JSON, wrong shape)."""


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], Any] | bytes) -> Path:
    """Write ``path`` through a temporary file in its folder and a rename: readers see the old
    file or the whole new one. ``write`` is the bytes, or a function given the open binary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(write, (bytes, bytearray)):
                fh.write(write)
            else:
                write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | Path, data: Any, default: Callable[[Any], Any] | None = None) -> Path:
    """``data`` as indented JSON at ``path``, atomically (see :func:`atomic_write`)."""
    text = json.dumps(data, indent=2, default=default).encode()
    return atomic_write(path, text)


def read_json(path: str | Path, expect: type | tuple[type, ...] | None = None, hint: str = "") -> Any:
    """The JSON in ``path``; a :class:`CorruptFileError` naming the file (and ``hint``: what to
    do) when it cannot be read, is not JSON, or is not of type ``expect``. A missing file raises
    ``FileNotFoundError`` as usual: callers decide what a missing file means."""
    path = Path(path)
    tail = f"; {hint}" if hint else ""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise
    except UnicodeDecodeError:
        raise CorruptFileError(f"{path} is not a text (JSON) file{tail}") from None
    except IsADirectoryError:
        raise CorruptFileError(f"{path} is a folder, not a JSON file{tail}") from None
    except OSError as exc:
        raise CorruptFileError(f"cannot read {path}: {exc.strerror or exc}{tail}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        detail = f"truncated? {exc.msg} at line {exc.lineno}"
        what = "is empty" if not text.strip() else f"is not valid JSON ({detail})"
        raise CorruptFileError(f"{path} {what}{tail}") from None
    if expect is not None and not isinstance(data, expect):
        names = " or ".join(t.__name__ for t in (expect if isinstance(expect, tuple) else (expect,)))
        shown = {"dict": "a JSON object", "list": "a JSON list"}
        want = " or ".join(shown.get(n, n) for n in names.split(" or "))
        raise CorruptFileError(f"{path} holds {type(data).__name__}, not {want}{tail}")
    return data


def set_aside(path: str | Path) -> Path:
    """Rename ``path`` to ``<stem>.unreadable-<time>[-n]<suffix>`` beside it (never over another
    file) and return the new path: the way to make room without losing what was there."""
    path = Path(path)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    n = 1
    while True:
        extra = "" if n == 1 else f"-{n}"
        target = path.with_name(f"{path.stem}.unreadable-{stamp}{extra}{path.suffix}")
        if not target.exists():
            os.replace(path, target)
            return target
        n += 1


def check_output_dir(path: str | Path, option: str = "--out") -> Path:
    """``path`` as a folder results can be written into, checked before any work: not a file,
    and creatable/writable. Raises :class:`ConfigurationError` naming the option."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"{option} {path} is a file; give a folder (it is created if missing)")
    probe = path
    while not probe.exists():  # the nearest existing ancestor must be a writable folder
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ConfigurationError(f"{option} {path}: {probe} is a file, so the folder cannot be created")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigurationError(f"{option} {path}: cannot write into {probe} (permission denied)")
    return path


def check_output_file(path: str | Path, option: str = "--out") -> Path:
    """``path`` as a file that can be written, checked before any work: not a folder, its folder
    creatable/writable."""
    path = Path(path)
    if path.is_dir():
        raise ConfigurationError(f"{option} {path} is a folder; give a file name")
    check_output_dir(path.parent, option)
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigurationError(f"{option} {path}: the file is not writable")
    return path
