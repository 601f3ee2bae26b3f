"""The QASMBench corpus: 125 real OpenQASM 2 programs, a conformance corpus for ``circuits.qasm``.

The files (``small/`` and ``medium/`` of github.com/pnnl/QASMBench) and their ``MANIFEST.tsv``
(sha256, qubits, whether qiskit parses them) are looked for in ``$KETML_DATA/qasmbench/``; the
checksums are shipped in ``checksums/qasmbench.sha256``. There is no pinned download: copy a
verified folder there.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from .cache import RemoteFile, dataset_dir, ensure_files
from .registry import Dataset, files_from_sums, register

__all__ = ["qasmbench_manifest"]

_SUMS = (Path(__file__).parent / "checksums" / "qasmbench.sha256").read_text()
_MANIFEST = RemoteFile(
    "MANIFEST.tsv", "", sha256="456d8010e4f3fcd00a7927fddfb735e29cc49056159362d732637c9d953860c2"
)


def qasmbench_manifest(root: str | os.PathLike | None = None) -> list[dict[str, str]]:
    """The rows of ``MANIFEST.tsv`` (``path``, ``sha256``, ``qiskit_qasm2_parse``, ``num_qubits``,
    ...), verified; each ``path`` is relative to the corpus folder."""
    (path,) = ensure_files(dataset_dir("qasmbench", root), [_MANIFEST], download=False)
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


register(
    Dataset(
        "qasmbench",
        "QASM corpus",
        "125 OpenQASM 2 programs (QASMBench small/ and medium/); 119 parse, 6 are invalid inputs",
        qasmbench_manifest,
        (_MANIFEST, *files_from_sums(_SUMS)),
        source="Li et al., QASMBench, ACM TQC 4 (2023), github.com/pnnl/QASMBench",
        licence="QASMBench licence (BSD-style, Battelle Memorial Institute)",
        size="2.4 MB",
        how_to_get="no pinned download: copy a verified qasmbench/ folder (with MANIFEST.tsv) into the "
        "data folder",
    )
)
