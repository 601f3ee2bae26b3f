"""Readers of the image datasets' native file formats, each checking what it reads.

IDX (MNIST, Fashion-MNIST), the CIFAR python pickles (read straight from the ``.tar.gz`` or from an
extracted folder, through an unpickler that only builds numpy arrays) and the STL-10 binaries.
Malformed input raises :class:`~circuits.errors.DataError` (a ``ValueError``) naming the file.
"""

from __future__ import annotations

import gzip
import io
import pickle
import shutil
import struct
import tarfile
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from circuits.errors import ConfigurationError, DataError

from .cache import DataNotFoundError

IDX_IMAGES, IDX_LABELS = 0x00000803, 0x00000801
STL_SIDE = 96


# ---------------------------------------------------------------- IDX


def _read_maybe_gzip(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{path}: cannot read ({exc})") from None


def read_idx(path: str | Path, expect: int) -> torch.Tensor:
    """An IDX file, gzipped or plain: images ``(N, H, W)`` uint8 (magic 0x803) or labels ``(N,)``
    uint8 (magic 0x801). Checks the magic number and that the data is exactly the header's size."""
    path = Path(path)
    if expect not in (IDX_IMAGES, IDX_LABELS):
        raise ConfigurationError(f"expect must be IDX_IMAGES or IDX_LABELS; got {expect:#010x}")
    data = _read_maybe_gzip(path)
    ndim = expect & 0xFF
    header = 4 + 4 * ndim
    if len(data) < 4:
        raise DataError(f"{path}: too short for an IDX file ({len(data)} bytes)")
    (magic,) = struct.unpack(">I", data[:4])
    if magic != expect:
        kind = "images" if expect == IDX_IMAGES else "labels"
        raise DataError(f"{path}: IDX magic number {magic:#010x}, expected {expect:#010x} (uint8 {kind})")
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header ({len(data)} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    size = int(np.prod(dims, dtype=np.int64))
    if len(data) - header != size:
        raise DataError(f"{path}: expected {size} data bytes for shape {dims}, found {len(data) - header}")
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy())


# ---------------------------------------------------------------- CIFAR

# the only globals a CIFAR pickle needs: numpy arrays (numpy 1 or 2 module layout, any protocol)
# and the bytes constructor of protocol-2 pickles written by Python 3
_SAFE_GLOBALS = {
    ("_codecs", "encode"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings and numpy arrays, and refuses every other global (a pickle
    can run arbitrary code, and an extracted folder is not checksummed)."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _SAFE_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")
        if module.startswith("numpy.core.") and hasattr(np, "_core"):
            module = "numpy._core." + module.split(".", 2)[2]  # numpy 2 moved numpy.core
        return super().find_class(module, name)


def unpickle(raw: bytes, where: str) -> dict:
    """A CIFAR pickle (``encoding="bytes"``, so its keys are bytes) as a dict."""
    try:
        obj = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # any unpickling failure means a bad file
        raise DataError(f"{where}: not a CIFAR python pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{where}: not a CIFAR python pickle (a {type(obj).__name__}, not a dict)")
    return obj


def cifar_members(source: Path, members: Iterable[str], optional: Iterable[str] = ()) -> dict[str, dict]:
    """Unpickled CIFAR files by base name (``data_batch_1``, ``meta``...), from the ``.tar.gz``
    (one pass, nothing extracted) or from an extracted folder; ``optional`` ones may be absent."""
    wanted, optional = list(members), set(optional)
    out: dict[str, dict] = {}
    if source.is_dir():
        for m in [*wanted, *optional]:
            path = source / m
            if path.is_file():
                out[m] = unpickle(path.read_bytes(), str(path))
    else:
        try:
            with tarfile.open(source, "r:gz") as tar:
                for info in tar:
                    base = info.name.rsplit("/", 1)[-1]
                    if info.isfile() and (base in wanted or base in optional) and base not in out:
                        fh = tar.extractfile(info)
                        assert fh is not None
                        out[base] = unpickle(fh.read(), f"{source}:{info.name}")
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{source}: cannot read the archive ({exc})") from None
    absent = [m for m in wanted if m not in out]
    if absent:
        raise DataError(f"{source}: has no {', '.join(absent)} (an incomplete or different CIFAR copy)")
    return out


def cifar_arrays(
    batches: list[dict], label_key: bytes, where: str, n_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack CIFAR batches into uint8 images ``(N, 3, 32, 32)`` and int64 labels, checking shapes,
    dtypes, counts and the label range. Each row is 1024 red, green, blue values, row-major 32 x 32."""
    images, labels = [], []
    for b in batches:
        if b"data" not in b or label_key not in b:
            raise DataError(f"{where}: a batch lacks b'data' or {label_key!r}")
        data = np.asarray(b[b"data"])
        lab = np.asarray(b[label_key])
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise DataError(f"{where}: batch data is {data.dtype} {data.shape}; expected uint8 (N, 3072)")
        if lab.ndim != 1 or len(lab) != len(data) or (lab.size and not np.issubdtype(lab.dtype, np.integer)):
            raise DataError(f"{where}: {len(data)} images but labels of shape {lab.shape} ({lab.dtype})")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(lab.astype(np.int64))
    x, y = np.concatenate(images), np.concatenate(labels)
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise DataError(f"{where}: {label_key.decode()} outside 0..{n_classes - 1}")
    return torch.from_numpy(x.copy()), torch.from_numpy(y)


def label_names(meta: dict, key: bytes, n: int, where: str) -> list[str]:
    """The ``n`` class names stored under ``key`` of a CIFAR meta pickle."""
    names = meta.get(key)
    if not isinstance(names, list | tuple) or len(names) != n:
        raise DataError(f"{where}: {key!r} should list {n} class names")
    return [x.decode() if isinstance(x, bytes) else str(x) for x in names]


# ---------------------------------------------------------------- STL-10


def read_stl_images(path: Path) -> torch.Tensor:
    """STL-10 ``*_X.bin`` as uint8 ``(N, 3, 96, 96)``. On disk each image is 3 channels of 96 x 96
    stored column-major, i.e. ``(N, 3, W, H)``; this swaps the last two axes (copied in chunks)."""
    per = 3 * STL_SIDE * STL_SIDE
    size = path.stat().st_size
    if size == 0 or size % per:
        raise DataError(f"{path}: {size} bytes is not a whole number of 3 x 96 x 96 images")
    n = size // per
    raw = np.memmap(path, dtype=np.uint8, mode="r", shape=(n, 3, STL_SIDE, STL_SIDE))
    out = torch.empty((n, 3, STL_SIDE, STL_SIDE), dtype=torch.uint8)
    step = 4096
    for i in range(0, n, step):
        out[i : i + step] = torch.from_numpy(np.array(raw[i : i + step])).transpose(2, 3)
    del raw
    return out


def read_stl_labels(path: Path) -> torch.Tensor:
    """STL-10 ``*_y.bin``: one uint8 label per image, 1..10 on disk, returned as int64 0..9."""
    raw = np.fromfile(path, dtype=np.uint8).astype(np.int64)
    if raw.size == 0 or raw.min() < 1 or raw.max() > 10:
        raise DataError(f"{path}: STL-10 labels must be 1..10")
    return torch.from_numpy(raw - 1)


def _safe_members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for m in members:
        parts = Path(m.name).parts
        if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()):
            raise DataError(f"{archive}: refusing to extract the unsafe member {m.name!r}")
    return members


def extract_tar(archive: Path, folder: Path, wanted: str) -> Path:
    """Extract ``archive``'s top folder ``wanted`` into ``folder``: into a temporary folder first,
    renamed into place at the end, so an interrupted extraction leaves nothing behind."""
    target = folder / wanted
    advice = f"extract it yourself (tar xzf {archive.name}) and pass root= the folder that holds {wanted}/"
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=folder))
    except OSError as exc:
        raise DataNotFoundError(
            f"{target} is absent and {archive.name} cannot be extracted ({exc.strerror or exc}): {advice}"
        ) from None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # Python without extraction filters
                tar.extractall(tmp, members=_safe_members(tar, archive))
        if not (tmp / wanted).is_dir():
            raise DataError(f"{archive}: the archive has no {wanted}/ folder")
        if not target.exists():
            (tmp / wanted).rename(target)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise DataError(f"{archive}: cannot extract ({exc})") from None
    except OSError as exc:
        raise DataNotFoundError(
            f"{target} is absent and extracting {archive.name} failed ({exc.strerror or exc}): {advice}"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
