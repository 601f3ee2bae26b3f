"""Real algorithm circuits from MQT Bench as OpenQASM 2: the corpus KetGPT (arXiv 2402.13352) trains on.

``mqt.bench`` (2.x) builds each circuit locally with Qiskit (no network) at the target-independent
level; every circuit is exported with ``qiskit.qasm2.dumps``, deduplicated by the SHA-256 of its
text, and split by (family, size) so the test split holds circuits the model never saw. A corpus is
built once into ``$KETML_DATA/<name>/`` (one ``.qasm`` file per circuit and ``MANIFEST.json`` with
each file's family, size, qubits, gates, split and SHA-256) and verified on every load: a file
that does not match its checksum is a :class:`~data.cache.ChecksumError` naming the fix.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from circuits.errors import ConfigurationError, DataError

from .cache import ChecksumError, dataset_dir, digest
from .registry import Dataset, register

__all__ = [
    "CORPORA",
    "AlgorithmCorpus",
    "CircuitRecord",
    "CorpusSpec",
    "build_corpus",
    "load_algorithm_circuits",
]

MANIFEST = "MANIFEST.json"
_FORMAT = 1


def _paper_sizes(family: str) -> tuple[int, ...]:
    """Sizes of one family in the paper-sized corpus: every size 2..64, then every 4th to 128;
    Grover and the quantum walk grow exponentially in gates, so they stop early."""
    if family == "grover":
        return tuple(range(2, 15))
    if family == "qwalk":
        return tuple(range(3, 13))
    start = 3 if family == "graphstate" else 2
    return tuple(range(start, 65)) + tuple(range(68, 129, 4))


#: The paper's MQT Bench families that mqt.bench 2.3 still provides (the portfolio, pricing and
#: ground-state families were removed from MQT Bench 2.x); ``ae`` fails inside mqt.bench 2.3 with
#: numpy 2 and is recorded as skipped.
PAPER_FAMILIES = (
    "ae",
    "dj",
    "ghz",
    "graphstate",
    "grover",
    "qaoa",
    "qft",
    "qftentangled",
    "qnn",
    "qpeexact",
    "qpeinexact",
    "qwalk",
    "vqe_real_amp",
    "vqe_su2",
    "vqe_two_local",
    "wstate",
)


@dataclass(frozen=True)
class CorpusSpec:
    """What a corpus holds: families, sizes per family, split fractions and the split seed."""

    name: str
    families: tuple[str, ...]
    sizes: dict[str, tuple[int, ...]]
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train, val, test
    seed: int = 0

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "families": list(self.families),
            "sizes": {f: list(s) for f, s in self.sizes.items()},
            "fractions": list(self.fractions),
            "seed": self.seed,
        }


_QUICK_FAMILIES = ("dj", "ghz", "graphstate", "qft", "qnn", "qpeexact", "wstate", "vqe_real_amp")

#: The corpora the catalogue knows: the paper-sized one and a quick one for tests and tutorials.
CORPORA = {
    "algorithm-circuits": CorpusSpec(
        "algorithm-circuits", PAPER_FAMILIES, {f: _paper_sizes(f) for f in PAPER_FAMILIES}
    ),
    "algorithm-circuits-quick": CorpusSpec(
        "algorithm-circuits-quick",
        _QUICK_FAMILIES,
        {f: tuple(range(3 if f == "graphstate" else 2, 13)) for f in _QUICK_FAMILIES},
        fractions=(0.7, 0.1, 0.2),
    ),
}


@dataclass(frozen=True)
class CircuitRecord:
    """One corpus circuit: its family and MQT Bench size, qubits, gates, split and QASM text."""

    family: str
    size: int
    num_qubits: int
    n_gates: int
    split: str
    path: Path
    sha256: str

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass
class AlgorithmCorpus:
    """A verified corpus folder: its records, the spec it was built from, and what was skipped."""

    folder: Path
    records: list[CircuitRecord]
    spec: dict
    skipped: list[dict] = field(default_factory=list)
    duplicates: int = 0

    def split(self, name: str) -> list[CircuitRecord]:
        """The records of split ``train``, ``val`` or ``test`` (``all`` for every one)."""
        if name not in ("train", "val", "test", "all"):
            raise ConfigurationError(f"split must be train, val, test or all; got {name!r}")
        return [r for r in self.records if name == "all" or r.split == name]

    def texts(self, name: str = "train") -> list[str]:
        return [r.text for r in self.split(name)]

    def __len__(self) -> int:
        return len(self.records)

    def summary(self) -> dict:
        """Counts per split and family, qubit and gate ranges (for reports)."""
        out: dict = {"n_circuits": len(self.records), "duplicates_dropped": self.duplicates}
        for s in ("train", "val", "test"):
            out[f"n_{s}"] = len(self.split(s))
        out["families"] = sorted({r.family for r in self.records})
        if self.records:
            out["qubits"] = [min(r.num_qubits for r in self.records), max(r.num_qubits for r in self.records)]
            out["gates"] = [min(r.n_gates for r in self.records), max(r.n_gates for r in self.records)]
        out["skipped"] = len(self.skipped)
        return out


def _normalised_sha(text: str) -> str:
    """SHA-256 of the text with whitespace runs folded: the identity used for deduplication."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def _split_of(groups: list[tuple[str, int]], fractions, seed: int) -> dict[tuple[str, int], str]:
    """Assign each (family, size) group to a split: shuffled per family, so every family has
    test sizes that the training split never saw."""
    out = {}
    rng = random.Random(seed)
    for family in sorted({g[0] for g in groups}):
        members = sorted(g for g in groups if g[0] == family)
        rng.shuffle(members)
        n = len(members)
        n_test = max(1, round(fractions[2] * n)) if n >= 3 else 0
        n_val = max(1, round(fractions[1] * n)) if n >= 3 else 0
        for i, g in enumerate(members):
            out[g] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return out


def build_corpus(folder: str | os.PathLike, spec: CorpusSpec, *, progress: bool = True) -> AlgorithmCorpus:
    """Generate ``spec``'s circuits with mqt.bench into ``folder`` (built in a temporary folder
    beside it, renamed into place when complete); families or sizes that mqt.bench cannot build
    are recorded in the manifest's ``skipped`` with the reason."""
    import qiskit
    import qiskit.qasm2
    from mqt.bench import BenchmarkLevel, get_benchmark
    from tqdm.auto import tqdm

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        jobs = [(f, s) for f in spec.families for s in spec.sizes.get(f, ())]
        rows, skipped, seen, duplicates = [], [], set(), 0
        broken: dict[str, str] = {}
        for family, size in tqdm(jobs, desc=f"building {spec.name}", disable=not progress, unit="circuit"):
            if family in broken:
                skipped.append({"family": family, "size": size, "reason": broken[family]})
                continue
            try:
                circuit = get_benchmark(family, BenchmarkLevel.INDEP, size)
                text = qiskit.qasm2.dumps(circuit)
            except Exception as exc:  # mqt.bench's own failures: recorded, not fatal
                reason = f"{type(exc).__name__}: {exc}"[:200]
                skipped.append({"family": family, "size": size, "reason": reason})
                if len([s for s in skipped if s["family"] == family]) >= 3:
                    broken[family] = reason  # the family fails throughout: do not try every size
                continue
            key = _normalised_sha(text)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            name = f"{family}_{size:03d}.qasm"
            (tmp / name).write_text(text, encoding="utf-8")
            n_gates = sum(1 for i in circuit.data if i.operation.name not in ("barrier", "measure"))
            rows.append(
                {
                    "path": name,
                    "family": family,
                    "size": size,
                    "num_qubits": circuit.num_qubits,
                    "n_gates": n_gates,
                    "sha256": digest(tmp / name, "sha256"),
                }
            )
        splits = _split_of([(r["family"], r["size"]) for r in rows], spec.fractions, spec.seed)
        for r in rows:
            r["split"] = splits[(r["family"], r["size"])]
        import mqt.bench

        manifest = {
            "format": _FORMAT,
            "spec": spec.as_dict(),
            "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "mqt_bench": getattr(mqt.bench, "__version__", "?"),
            "qiskit": qiskit.__version__,
            "duplicates_dropped": duplicates,
            "skipped": skipped,
            "circuits": rows,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return read_corpus(folder)


def read_corpus(folder: str | os.PathLike, *, verify: bool = True) -> AlgorithmCorpus:
    """The corpus in ``folder``, every file checked against the manifest's SHA-256 (``verify``)."""
    folder = Path(folder)
    path = folder / MANIFEST
    fix = f"delete {folder} (it is rebuilt on the next load) or load with rebuild=True"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        rows = manifest["circuits"]
    except FileNotFoundError:
        raise DataError(f"{folder} has no {MANIFEST}: not a corpus folder; {fix}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path} is unreadable or damaged ({exc}); {fix}") from None
    records = []
    for r in rows:
        file = folder / r["path"]
        if verify:
            if not file.is_file():
                raise ChecksumError(f"corpus file {file} listed in {MANIFEST} is missing; {fix}")
            actual = digest(file, "sha256")
            if actual != r["sha256"]:
                raise ChecksumError(
                    f"corpus file {file} does not match its checksum (sha256 {actual}, expected "
                    f"{r['sha256']}): the cache is corrupt; {fix}"
                )
        records.append(
            CircuitRecord(
                r["family"], r["size"], r["num_qubits"], r["n_gates"], r["split"], file, r["sha256"]
            )
        )
    return AlgorithmCorpus(
        folder,
        records,
        manifest.get("spec", {}),
        manifest.get("skipped", []),
        manifest.get("duplicates_dropped", 0),
    )


def load_algorithm_circuits(
    name: str = "algorithm-circuits",
    *,
    root: str | os.PathLike | None = None,
    rebuild: bool = False,
    progress: bool = True,
) -> AlgorithmCorpus:
    """The corpus ``name`` (a key of :data:`CORPORA`), verified; built with mqt.bench on first use
    (or with ``rebuild=True``) into ``root`` (default ``$KETML_DATA/<name>``)."""
    if name not in CORPORA:
        raise ConfigurationError(f"unknown algorithm corpus {name!r}; known: {', '.join(CORPORA)}")
    folder = dataset_dir(name, root)
    if rebuild or not (folder / MANIFEST).is_file():
        return build_corpus(folder, CORPORA[name], progress=progress)
    corpus = read_corpus(folder)
    if corpus.spec != CORPORA[name].as_dict():
        raise DataError(
            f"{folder} holds a corpus built from another specification; delete it or load with rebuild=True"
        )
    return corpus


_COMMON = {
    "requires": ("mqt.bench",),
    "source": "Quetschlich, Burgholzer, Wille, MQT Bench, Quantum 7, 1062 (2023); KetGPT arXiv 2402.13352",
    "licence": "generated by mqt.bench (MIT)",
    "how_to_get": "pip install mqt.bench; built locally on first use and cached with a manifest",
}
register(
    Dataset(
        "algorithm-circuits",
        "QASM corpus",
        "1,048 MQT Bench algorithm circuits (15 families, 2-128 qubits) as OpenQASM 2, split by "
        "(family, size): KetGPT's training corpus",
        load_algorithm_circuits,
        size="1,048 circuits",
        **_COMMON,
    )
)
register(
    Dataset(
        "algorithm-circuits-quick",
        "QASM corpus",
        "87 small MQT Bench circuits (8 families, 2-12 qubits) for tests and tutorials",
        functools.partial(load_algorithm_circuits, "algorithm-circuits-quick"),
        size="87 circuits",
        **_COMMON,
    )
)
