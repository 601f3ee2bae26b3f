"""Where dataset files live and how they get there: the data folder, checksums, atomic downloads.

The data folder is ``$KETML_DATA`` if set, else ``~/.cache/ketml``; dataset ``name`` lives in
``<data folder>/<name>/`` unless a loader gets ``root=``. A present file is verified against its
published checksum; a missing one is downloaded to a temporary name in the same folder, verified,
then renamed into place, so no half-written file is ever left behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from circuits.errors import DataError, KetmlError

__all__ = [
    "ChecksumError",
    "DataNotFoundError",
    "RemoteFile",
    "checksum_problem",
    "data_home",
    "dataset_dir",
    "digest",
    "ensure_file",
    "ensure_files",
    "verify",
]

_CHUNK = 1 << 20


class DataNotFoundError(KetmlError, FileNotFoundError):
    """A dataset file is absent and could not be downloaded; the message says what to put where."""


class ChecksumError(DataError):
    """A dataset file's digest is not the published one (corrupt, truncated or another file)."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name, canonical URL, and published SHA-256 and/or MD5 digest."""

    name: str
    url: str
    sha256: str | None = None
    md5: str | None = None


def data_home() -> Path:
    """The data folder: ``$KETML_DATA`` if set, else ``~/.cache/ketml``."""
    env = os.environ.get("KETML_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ketml"


def dataset_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """The folder that holds dataset ``name``'s files: ``root`` if given, else ``data_home()/name``."""
    return Path(root).expanduser() if root is not None else data_home() / name


def digest(path: str | os.PathLike, algorithm: str) -> str:
    """The hex digest of a file (``algorithm`` as :func:`hashlib.new` names it), read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _expected(sha256: str | None, md5: str | None) -> list[tuple[str, str]]:
    return [(a, d.lower()) for a, d in (("sha256", sha256), ("md5", md5)) if d]


def checksum_problem(path: Path, sha256: str | None = None, md5: str | None = None) -> str | None:
    """``None`` if ``path`` has the given digests, else a short reason (``"sha256 <actual>, expected
    <published>"``)."""
    for algorithm, expected in _expected(sha256, md5):
        actual = digest(path, algorithm)
        if actual != expected:
            return f"{algorithm} {actual}, expected {expected}"
    return None


def verify(path: str | os.PathLike, sha256: str | None = None, md5: str | None = None, url: str = "") -> None:
    """Raise :class:`ChecksumError` (naming the file and both digests) unless ``path`` matches."""
    path = Path(path)
    problem = checksum_problem(path, sha256, md5)
    if problem is None:
        return
    source = f" from {url}" if url else ""
    raise ChecksumError(
        f"{path} is corrupt, truncated or not the published file: {problem} ({path.stat().st_size} "
        f"bytes). Delete it (the loader will download it again) or replace it with a good copy{source}"
    )


def _not_found(folder: Path, specs: Sequence[RemoteFile], reason: str) -> DataNotFoundError:
    files = "\n".join(f"  {s.name}" + (f"    (canonical URL: {s.url})" if s.url else "") for s in specs)
    return DataNotFoundError(
        f"{reason}.\nPut these file(s) into {folder}:\n{files}\n"
        f"The data folder is $KETML_DATA (now {data_home()}; default ~/.cache/ketml): set KETML_DATA to "
        f"a folder with a '{folder.name}' subfolder holding them, or pass root= to the loader."
    )


def ensure_file(
    folder: str | os.PathLike,
    filename: str,
    url: str,
    sha256: str | None = None,
    md5: str | None = None,
    download: bool = True,
    progress: bool = True,
) -> Path:
    """The verified path of ``folder/filename``, downloading it from ``url`` first if it is absent.

    Raises :class:`ChecksumError` if the present (or downloaded) file has the wrong digest, and
    :class:`DataNotFoundError` if it is absent and cannot be downloaded (``download=False``, no
    network, a read-only folder). A download goes to a temporary file in ``folder`` that is only
    renamed into place once verified and removed on any failure, Ctrl-C included.
    """
    folder = Path(folder)
    spec = RemoteFile(filename, url, sha256, md5)
    path = folder / filename
    if path.is_file():
        verify(path, sha256, md5, url)
        return path
    if not download:
        raise _not_found(folder, [spec], f"{filename} is not in {folder} (download=False)")
    created: list[Path] = []
    try:
        created = _make_folder(folder)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=folder)
    except OSError as exc:
        _remove_empty(created)
        raise _not_found(
            folder, [spec], f"{filename} is not in {folder}, which is not writable ({exc.strerror or exc})"
        ) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _download(url, out, filename, progress)
        problem = checksum_problem(tmp, sha256, md5)
        if problem is not None:
            raise ChecksumError(
                f"the download of {filename} from {url} is not the published file: {problem}; nothing "
                f"was saved. Try again later, or put a good copy of {filename} into {folder}"
            )
        os.replace(tmp, path)
    except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as exc:
        tmp.unlink(missing_ok=True)
        _remove_empty(created)
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise _not_found(
            folder, [spec], f"{filename} is not in {folder} and downloading it failed ({reason})"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        _remove_empty(created)
        raise
    return path


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the ones created, deepest first."""
    created = []
    for p in [folder, *folder.parents]:
        if p.exists():
            break
        created.append(p)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        _remove_empty(created)
        raise
    return created


def _remove_empty(created: list[Path]) -> None:
    """Remove the folders a failed download created, if still empty (leave no trace)."""
    for p in created:
        try:
            p.rmdir()
        except OSError:
            return


def ensure_files(folder: Path, specs: Sequence[RemoteFile], download: bool = True) -> list[Path]:
    """:func:`ensure_file` for several files; one :class:`DataNotFoundError` lists every file that
    is missing (after one failed download the others are not tried)."""
    paths, missing, reason = [], [], ""
    for spec in specs:
        try:
            paths.append(
                ensure_file(
                    folder, spec.name, spec.url, spec.sha256, spec.md5, download=download and not missing
                )
            )
        except DataNotFoundError as exc:
            missing.append(spec)
            reason = reason or str(exc).split(".\n", 1)[0]
    if missing:
        names = ", ".join(s.name for s in missing)
        raise _not_found(folder, missing, f"missing {names} ({reason})")
    return paths


def _download(url: str, out: BinaryIO, label: str, progress: bool) -> None:
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        received = 0
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=f"downloading {label}", disable=not progress
        ) as bar:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received != total:
        raise urllib.error.URLError(f"connection closed after {received} of {total} bytes")
