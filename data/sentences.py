"""The lambeq QNLP sentence sets (MC, RP, DisCoCirc MC): catalogue entries and a plain reader.

Each line is ``<label> <sentence>`` (MC has two spaces after the label); :func:`load_sentences`
returns ``(label, sentence)`` pairs of one split, read from ``$KETML_DATA/lambeq-qnlp/``.
"""

from __future__ import annotations

import functools
import os

from circuits.errors import ConfigurationError, DataError

from .cache import dataset_dir, ensure_files
from .registry import Dataset, files_from_sums, get, register

__all__ = ["load_sentences", "read_labelled_sentences"]

_FOLDER = "lambeq-qnlp"
_COMMIT = "40d8dc84cbd2c38f829d5a1270b45c4c43b393ec"
_URL = f"https://raw.githubusercontent.com/CQCL/lambeq-docs/{_COMMIT}/docs/examples/datasets/"
_SOURCE = (
    f"Lorenz et al., QNLP in Practice, JAIR 76 (2023); lambeq-docs docs/examples/datasets at {_COMMIT[:12]}"
)


def read_labelled_sentences(path: str | os.PathLike) -> list[tuple[int, str]]:
    """``(label, sentence)`` for each non-empty line ``<label> <sentence>`` of ``path``."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            label, _, sentence = line.strip().partition(" ")
            if not label.isdigit() or not sentence.strip():
                raise DataError(f"{path}:{number}: expected '<label> <sentence>', got {line.strip()!r}")
            out.append((int(label), sentence.strip()))
    return out


def load_sentences(
    name: str, split: str = "train", root: str | os.PathLike | None = None, download: bool = True
) -> list[tuple[int, str]]:
    """One split of a sentence set of the catalogue (``lambeq-mc``, ``lambeq-rp``,
    ``lambeq-discocirc-mc``), downloaded and verified on first use."""
    entry = get(name)
    if entry.kind != "sentences":
        raise ConfigurationError(f"{name!r} is a {entry.kind} dataset, not a sentence set")
    splits = {f.name.rsplit("_data.txt", 1)[0].rsplit("_", 1)[1]: f for f in entry.files}
    if split not in splits:
        raise ConfigurationError(f"{name} has the splits {', '.join(splits)}; got {split!r}")
    (path,) = ensure_files(dataset_dir(_FOLDER, root), [splits[split]], download=download)
    return read_labelled_sentences(path)


_SUMS = {
    "lambeq-mc": """\
a6bbd09b3f50e7db667f1ab7678b5b2dd3ee5ed82d5a5f76da05658c3e6112e9  mc_train_data.txt
1a81ff2b8459d83dc4a9a46f72085d8aadac8b3c3d15402c7a6fdd43048fd0b1  mc_dev_data.txt
39dc1762a06631ed7c0fa5abc933adbf646590b13f92af3abde7f632e7fdbb41  mc_test_data.txt
""",
    "lambeq-rp": """\
c5d45b0e9e278b2e054c44e6003ad9caa63effe597f033533300d569b07dccbd  rp_train_data.txt
6bd4dabdd7b87bee54be8429e2e52cbd0f01a0f516ca69fad2aaa146e4c34985  rp_test_data.txt
""",
    "lambeq-discocirc-mc": """\
f0821c7e174cd21688dda0e41364115f51d463c07ba1655b59755011489a4074  discocirc_mc_train_data.txt
6b1a666de790468626ab2e09a9d108cd9d09c640740834bc4005fe4b78466a08  discocirc_mc_dev_data.txt
efff1817228293ae432e64ad932f0e5ddd8f9803bdc13aeb806cad29ea737723  discocirc_mc_test_data.txt
""",
}
_ABOUT = {
    "lambeq-mc": ("meaning classification: 130 food (1) or IT (0) sentences, 70 / 30 / 30", "4 kB"),
    "lambeq-rp": ("relative pronouns: 105 subject- or object-relative noun phrases, 74 / 31", "3 kB"),
    "lambeq-discocirc-mc": ("meaning classification on three-sentence texts, 180 / 60 / 60", "29 kB"),
}
for _name, _sums in _SUMS.items():
    register(
        Dataset(
            _name,
            "sentences",
            _ABOUT[_name][0],
            functools.partial(load_sentences, _name),
            files_from_sums(_sums, lambda f: _URL + f),
            folder=_FOLDER,
            source=_SOURCE,
            licence="Apache-2.0 (lambeq-docs)",
            size=_ABOUT[_name][1],
        )
    )
