"""Readers of the datasets' native file formats, each checking what it reads.

IDX (MNIST, Fashion-MNIST), the CIFAR python pickles (read straight from the ``.tar.gz`` or from
an extracted folder) and the STL-10 binaries. Malformed input raises ``ValueError`` naming the file.
"""

from __future__ import annotations

import gzip
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import torch

IDX_IMAGES, IDX_LABELS = 0x00000803, 0x00000801


def _open(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None


def read_idx(path: Path, expect: int) -> torch.Tensor:
    """An IDX file: images ``(N, H, W)`` uint8 (magic 0x803) or labels ``(N,)`` uint8 (magic 0x801)."""
    data = _open(Path(path))
    if len(data) < 8:
        raise ValueError(f"{path}: too short for an IDX file ({len(data)} bytes)")
    magic, n = struct.unpack(">II", data[:8])
    if magic != expect:
        raise ValueError(f"{path}: IDX magic number {magic:#010x}, expected {expect:#010x}")
    dims = [n]
    offset = 8
    if expect == IDX_IMAGES:
        if len(data) < 16:
            raise ValueError(f"{path}: truncated IDX header")
        dims += list(struct.unpack(">II", data[8:16]))
        offset = 16
    size = int(np.prod(dims))
    if len(data) - offset != size:
        raise ValueError(
            f"{path}: expected {size} data bytes for shape {tuple(dims)}, found {len(data) - offset}"
        )
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims).copy())


def _unpickle(raw: bytes, where: str) -> dict:
    try:
        return pickle.loads(raw, encoding="bytes")
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        raise ValueError(f"{where}: not a CIFAR python pickle ({type(exc).__name__}: {exc})") from None


def cifar_members(source: Path, members: list[str]) -> dict[str, dict]:
    """Unpickled CIFAR batches by member name, from the ``.tar.gz`` or an extracted folder."""
    out = {}
    if source.is_dir():
        for m in members:
            path = source / m
            if not path.is_file():
                raise ValueError(f"{source}: missing {m}")
            out[m] = _unpickle(path.read_bytes(), str(path))
        return out
    try:
        with tarfile.open(source, "r:gz") as tar:
            names = tar.getnames()
            for m in members:
                match = [n for n in names if n == m or n.endswith("/" + m)]
                if not match:
                    raise ValueError(f"{source}: the archive has no member {m}")
                fh = tar.extractfile(match[0])
                if fh is None:
                    raise ValueError(f"{source}: {m} is not a file")
                out[m] = _unpickle(fh.read(), f"{source}:{m}")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"{source}: cannot read the archive ({exc})") from None
    return out


def cifar_arrays(
    batches: list[dict], label_key: bytes, where: str, n_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack CIFAR batches into images ``(N, 3, 32, 32)`` and labels, checking sizes and label range."""
    images, labels = [], []
    for b in batches:
        if b"data" not in b or label_key not in b:
            raise ValueError(f"{where}: a batch lacks 'data' or '{label_key.decode()}'")
        data = np.asarray(b[b"data"], dtype=np.uint8)
        lab = np.asarray(b[label_key], dtype=np.int64)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(lab) != len(data):
            raise ValueError(
                f"{where}: batch of shape {data.shape} with {len(lab)} labels; expected (N, 3072)"
            )
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(lab)
    x, y = np.concatenate(images), np.concatenate(labels)
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{where}: labels outside 0..{n_classes - 1}")
    return torch.from_numpy(x.copy()), torch.from_numpy(y)


def read_stl_images(path: Path) -> torch.Tensor:
    """STL-10 ``*_X.bin``: uint8 ``(N, 3, 96, 96)``; the file stores each channel column-major."""
    raw = np.fromfile(path, dtype=np.uint8)
    per = 3 * 96 * 96
    if raw.size == 0 or raw.size % per:
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of 3x96x96 images")
    return torch.from_numpy(raw.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2).copy())


def read_stl_labels(path: Path) -> torch.Tensor:
    """STL-10 ``*_y.bin``: labels 1..10 on disk, returned as 0..9."""
    raw = np.fromfile(path, dtype=np.uint8).astype(np.int64)
    if raw.size == 0 or raw.min() < 1 or raw.max() > 10:
        raise ValueError(f"{path}: STL-10 labels must be 1..10")
    return torch.from_numpy(raw - 1)


def extract_tar(archive: Path, folder: Path) -> None:
    """Extract ``archive`` into ``folder`` through a temporary sibling folder renamed at the end."""
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=folder))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(tmp, filter="data")
        for child in tmp.iterdir():
            target = folder / child.name
            if not target.exists():
                child.rename(target)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"{archive}: cannot extract ({exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
