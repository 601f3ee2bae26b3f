"""The dataset catalogue: one entry per dataset the toolkit knows, registered next to its loader.

Each loader module calls :func:`register` once per dataset; :func:`catalogue` imports every
module of the ``data`` package first, so a new dataset is one ``register(Dataset(...))`` call in
one file. :func:`status` says whether a dataset is usable here (its files present and verified,
or the packages it needs installed) and where it is looked for.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from circuits.errors import ConfigurationError, UnknownNameError

from .cache import DataNotFoundError, RemoteFile, checksum_problem, dataset_dir, ensure_files

__all__ = [
    "KINDS",
    "Dataset",
    "Status",
    "as_row",
    "catalogue",
    "describe_location",
    "fetch",
    "files_from_sums",
    "get",
    "names",
    "register",
    "resolve_kind",
    "shared_copy",
    "status",
]

#: The kinds of dataset, in the order ``ketml datasets`` lists them.
KINDS = (
    "images",
    "time series",
    "bit sequences",
    "RL environment",
    "sentences",
    "QASM corpus",
    "tables",
    "molecules",
)


@dataclass(frozen=True)
class Dataset:
    """One dataset: what it is, how it is loaded, its files (with checksums) and where it comes from.

    ``files`` are looked for in ``data_home()/folder`` (``folder`` defaults to ``name``); a
    dataset without files is generated, bundled with a package, or an environment, and is present
    when the Python packages in ``requires`` are installed. ``extracted`` names paths inside the
    folder that also count as present (an unpacked archive, format-checked on load only).
    """

    name: str
    kind: str
    description: str
    loader: Callable | str | None = None  # a callable, or "module:attribute" (not imported here)
    files: tuple[RemoteFile, ...] = ()
    folder: str | None = None
    extracted: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # importable modules it needs (e.g. "gymnasium", "sklearn")
    built_from: tuple[str, ...] = ()  # other catalogue entries it is made from
    source: str = ""
    licence: str = ""
    size: str = ""
    how_to_get: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigurationError(f"dataset {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.files and not self.how_to_get:
            object.__setattr__(self, "how_to_get", "downloaded and verified on first use")

    @property
    def directory(self) -> Path | None:
        """The folder its files are looked for in (``$KETML_DATA/<folder>``), or ``None``."""
        return dataset_dir(self.folder or self.name) if self.files else None

    @property
    def loader_path(self) -> str:
        """The loader as ``module:name`` (with fixed keyword arguments), for listings."""
        return _describe_callable(self.loader)


@dataclass(frozen=True)
class Status:
    """Whether a dataset is usable here: ``present``, a one-word ``state`` and a ``detail``."""

    present: bool
    state: str  # "ok", "missing", "corrupt", "extracted", "generated", "available", "needs-install"
    detail: str = ""
    where: str = ""


_CATALOGUE: dict[str, Dataset] = {}
_LOADED = False


def register(dataset: Dataset) -> Dataset:
    """Add ``dataset`` to the catalogue (its name must be new); returns it."""
    if dataset.name in _CATALOGUE and _CATALOGUE[dataset.name] != dataset:
        raise ConfigurationError(f"dataset {dataset.name!r} is already registered")
    _CATALOGUE[dataset.name] = dataset
    return dataset


def _load_all() -> None:
    """Import every module of the ``data`` package, so each registers its datasets."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    package = __name__.rsplit(".", 1)[0]
    for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{module.name}")


def resolve_kind(text: str) -> str:
    """The kind of :data:`KINDS` that ``text`` names, ignoring case, a plural ``s`` and ``-``/``_``
    for spaces (``rl-environment``, ``time_series``, ``image``); :class:`UnknownNameError` otherwise."""
    folded = " ".join(text.replace("-", " ").replace("_", " ").lower().split())
    for kind in KINDS:
        if kind.lower().removesuffix("s") == folded.removesuffix("s"):
            return kind
    raise UnknownNameError(f"unknown dataset kind {text!r}; known: {', '.join(KINDS)}")


def catalogue(kind: str | None = None) -> list[Dataset]:
    """Every registered dataset (of ``kind`` if given, see :func:`resolve_kind`), grouped by kind
    in :data:`KINDS` order."""
    _load_all()
    if kind is not None:
        kind = resolve_kind(kind)
    entries = [d for d in _CATALOGUE.values() if kind is None or d.kind == kind]
    return sorted(entries, key=lambda d: KINDS.index(d.kind))


def names(kind: str | None = None) -> tuple[str, ...]:
    """The names of :func:`catalogue`, in its order (registration order within a kind)."""
    return tuple(d.name for d in catalogue(kind))


def get(name: str) -> Dataset:
    """The entry called ``name`` (exact, else case-insensitive); :class:`UnknownNameError` lists the
    known names otherwise."""
    _load_all()
    if name in _CATALOGUE:
        return _CATALOGUE[name]
    folded = {n.lower(): d for n, d in _CATALOGUE.items()}
    if name.lower() in folded:
        return folded[name.lower()]
    raise UnknownNameError(f"unknown dataset {name!r}; known: {', '.join(names())}")


def status(dataset: Dataset | str) -> Status:
    """Is ``dataset`` usable here? Files are checked against their checksums (nothing is
    downloaded); a dataset without files needs its ``requires`` packages importable."""
    d = get(dataset) if isinstance(dataset, str) else dataset
    missing_modules = [m for m in d.requires if importlib.util.find_spec(m) is None]
    if not d.files:
        if missing_modules:
            return Status(False, "needs-install", f"needs {', '.join(missing_modules)}")
        if d.built_from:
            absent = [b for b in d.built_from if not status(b).present]
            if absent:
                return Status(False, "missing", f"needs {', '.join(absent)}")
            return Status(True, "available", f"built from {', '.join(d.built_from)}")
        if not d.requires:
            return Status(True, "generated", "generated on the fly")
        return Status(True, "available", f"{', '.join(d.requires)} installed")
    folder = d.directory
    assert folder is not None
    absent, corrupt = [], []
    for spec in d.files:
        path = folder / spec.name
        if not path.is_file():
            absent.append(spec.name)
            continue
        try:
            problem = checksum_problem(path, spec.sha256, spec.md5)
        except OSError as exc:
            problem = f"unreadable: {exc.strerror or exc}"
        if problem is not None:
            corrupt.append(f"{spec.name}: {problem}")
    if corrupt:
        return Status(False, "corrupt", "; ".join(corrupt), str(folder))
    if absent:
        unpacked = next((folder / e for e in d.extracted if (folder / e).exists()), None)
        if unpacked is not None:
            detail = f"{unpacked} (not checksummed; format checked on load)"
            return Status(True, "extracted", detail, str(folder))
        detail = f"{len(absent)} of {len(d.files)} files missing"
        return Status(False, "missing", detail, str(folder))
    if missing_modules:
        return Status(False, "needs-install", f"files ok; needs {', '.join(missing_modules)}", str(folder))
    return Status(True, "ok", f"{len(d.files)} files verified", str(folder))


def shared_copy(dataset: Dataset | str) -> Path | None:
    """A verified copy's folder in ``../shared/data`` beside a source checkout (tests and
    benchmarks use it by pointing ``KETML_DATA`` at it), if one holds every file of the dataset."""
    d = get(dataset) if isinstance(dataset, str) else dataset
    if not d.files:
        return None
    root = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    folder = root / (d.folder or d.name)
    if all((folder / f.name).is_file() for f in d.files):
        return folder
    return None


def fetch(dataset: Dataset | str, download: bool = True) -> list[Path]:
    """The verified paths of every file of ``dataset``, downloading missing ones when they have a
    URL; :class:`DataNotFoundError` says what to put where otherwise."""
    d = get(dataset) if isinstance(dataset, str) else dataset
    if not d.files:
        raise DataNotFoundError(f"{d.name} has no files to fetch ({d.how_to_get or d.kind})")
    folder = d.directory
    assert folder is not None
    if not all(f.url for f in d.files):  # no canonical download: present files only
        download = False
    return ensure_files(folder, d.files, download=download)


def files_from_sums(text: str, url: Callable[[str], str] | None = None) -> tuple[RemoteFile, ...]:
    """RemoteFiles from ``sha256sum`` output (``<hex>  <path>`` lines), with ``url(path)`` if given."""
    out = []
    for line in text.splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out.append(RemoteFile(name.lstrip("*"), url(name) if url else "", sha256=digest))
    return tuple(out)


def _describe_callable(loader: Callable | str | None) -> str:
    if loader is None:
        return ""
    if isinstance(loader, str):
        return loader
    if isinstance(loader, functools.partial):
        args = [repr(a) for a in loader.args] + [f"{k}={v!r}" for k, v in loader.keywords.items()]
        return f"{_describe_callable(loader.func)}({', '.join(args)})"
    return f"{loader.__module__}:{loader.__qualname__}"


def describe_location(d: Dataset) -> str:
    """Where ``d`` is looked for, in words (a folder, or what provides it)."""
    if d.directory is not None:
        return str(d.directory)
    if d.requires:
        return f"the {', '.join(d.requires)} package{'s' if len(d.requires) > 1 else ''}"
    if d.built_from:
        return f"built from {', '.join(d.built_from)}"
    return "generated in memory"


def as_row(d: Dataset) -> dict:
    """``d`` and its :func:`status` as a JSON-ready dict (what ``ketml datasets --json`` prints)."""
    st = status(d)
    shared = shared_copy(d) if not st.present else None
    how = d.how_to_get
    if shared is not None:
        how = f"{how}; a verified copy is in {shared.parent} (export KETML_DATA={shared.parent})"
    return {
        "name": d.name,
        "kind": d.kind,
        "description": d.description,
        "looked_for": describe_location(d),
        "present": st.present,
        "status": st.state,
        "detail": st.detail,
        "how_to_get": how,
        "loader": d.loader_path,
        "files": [{"name": f.name, "url": f.url, "sha256": f.sha256, "md5": f.md5} for f in d.files],
        "requires": list(d.requires),
        "built_from": list(d.built_from),
        "source": d.source,
        "licence": d.licence,
        "size": d.size,
    }
