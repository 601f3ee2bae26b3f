"""Where dataset files live and how they get there: the cache folder, checksums, atomic downloads.

The data folder is ``$KETML_DATA`` if set, else ``~/.cache/ketml``; dataset ``name`` lives in
``<data folder>/<name>/`` unless a loader gets ``root=``. A present file is verified against its
checksum; a missing file is downloaded to a temporary name in the same folder, verified, then
renamed into place, so no half-written file is ever left behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from circuits.errors import KetmlError

__all__ = [
    "ChecksumError",
    "DataNotFoundError",
    "RemoteFile",
    "data_home",
    "dataset_dir",
    "ensure_file",
    "digest",
]


class DataNotFoundError(KetmlError, FileNotFoundError):
    """A dataset file is absent and could not be downloaded; the message says where to put it."""


class ChecksumError(KetmlError, ValueError):
    """A dataset file's checksum is not the published one (corrupt, truncated or another file)."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name, canonical URL, and a SHA-256 or MD5 digest."""

    name: str
    url: str
    sha256: str | None = None
    md5: str | None = None


def data_home() -> Path:
    """``$KETML_DATA`` if set, else ``~/.cache/ketml``."""
    env = os.environ.get("KETML_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ketml"


def dataset_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """The folder that holds dataset ``name``'s files: ``root`` if given, else ``data_home()/name``."""
    return Path(root).expanduser() if root is not None else data_home() / name


def digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, spec: RemoteFile) -> None:
    """Raise :class:`ChecksumError` unless ``path`` has ``spec``'s digest."""
    for algorithm, expected in (("sha256", spec.sha256), ("md5", spec.md5)):
        if expected is None:
            continue
        actual = digest(path, algorithm)
        if actual != expected:
            raise ChecksumError(
                f"{path} is corrupt or not the published file: {algorithm} {actual}, expected {expected} "
                f"({path.stat().st_size} bytes). Delete it (it will be downloaded again) or replace it "
                f"with a good copy from {spec.url}"
            )


def _missing(folder: Path, specs: list[RemoteFile], reason: str) -> DataNotFoundError:
    names = ", ".join(s.name for s in specs)
    urls = "; ".join(s.url for s in specs)
    return DataNotFoundError(
        f"{reason}: put {names} into {folder} (download from {urls}), or set KETML_DATA to a folder "
        f"that has a '{folder.name}' subfolder with them"
    )


def ensure_file(folder: Path, spec: RemoteFile, *, download: bool = True, progress: bool = True) -> Path:
    """The verified local path of ``spec`` in ``folder``, downloading it first if it is absent."""
    path = Path(folder) / spec.name
    if path.is_file():
        verify(path, spec)
        return path
    if not download:
        raise _missing(folder, [spec], f"{spec.name} is not in {folder}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise _missing(folder, [spec], f"cannot write to {folder} ({exc.strerror or exc})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _download(spec.url, out, spec.name, progress)
        verify(tmp, spec)
        os.replace(tmp, path)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, DataNotFoundError):
            raise
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise _missing(
            folder, [spec], f"{spec.name} is not in {folder} and downloading it failed ({reason})"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _download(url: str, out, label: str, progress: bool) -> None:
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=f"downloading {label}", disable=not progress
        ) as bar:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                bar.update(len(chunk))
