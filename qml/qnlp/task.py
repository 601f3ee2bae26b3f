"""The ``qnlp`` task: a sentence set of the data catalogue, sentence classification through the
shared loop (the image classifiers' hooks: cross-entropy, best weights by validation accuracy,
test accuracy, curves and confusion matrix).

Samples are indices into the model's corpus (every text of every split, so the vocabulary covers
them, as lambeq's ``from_diagrams`` over train+dev+test); the model returns log class
probabilities. Datasets: ``mc``, ``rp`` and ``discocirc-mc`` (or their catalogue names).
"""

from __future__ import annotations

import torch

from circuits.errors import ConfigurationError
from data.registry import get
from data.sentences import load_sentences
from qml.registry import register_task
from qml.training.classification import ClassifierHooks
from qml.training.task import Prepared, Task

__all__ = ["CLASSES", "DATASETS", "QNLPTask", "catalogue_name"]

#: short names -> catalogue entries
DATASETS = {"mc": "lambeq-mc", "rp": "lambeq-rp", "discocirc-mc": "lambeq-discocirc-mc"}
#: class names (label 0, label 1) of each set
CLASSES = {
    "lambeq-mc": ["IT", "food"],
    "lambeq-rp": ["subject relative", "object relative"],
    "lambeq-discocirc-mc": ["IT", "food"],
}
#: type the sentences reduce to (RP holds noun phrases)
TARGETS = {"lambeq-mc": "s", "lambeq-rp": "n", "lambeq-discocirc-mc": "s"}


def catalogue_name(dataset: str) -> str:
    """``mc`` -> ``lambeq-mc``; catalogue names pass through."""
    name = DATASETS.get(dataset, dataset)
    if name not in CLASSES:
        raise ConfigurationError(f"unknown sentence set {dataset!r}; known: {', '.join(DATASETS)}")
    return name


def _split(rows, offset):
    idx = torch.arange(offset, offset + len(rows))
    return idx, torch.tensor([label for label, _ in rows], dtype=torch.long)


class QNLPTask(Task):
    name = "qnlp"
    kind = "sentences"
    metric = "test_accuracy"
    metric_label = "test accuracy"
    description = "sentence classification with grammar-shaped circuits (lambeq diagrams, torch engine)"

    def datasets(self) -> tuple[str, ...]:
        return (*DATASETS, *DATASETS.values())

    def load(self, dataset, *, seed=0, subset=None, test_subset=None, data_root=None):
        name = catalogue_name(dataset)
        files = get(name).files
        splits = [
            s for s in ("train", "dev", "test") if any(f.name.endswith(f"_{s}_data.txt") for f in files)
        ]
        rows = {s: load_sentences(name, s, root=data_root) for s in splits}
        if subset:
            gen = torch.Generator().manual_seed(seed)
            keep = torch.randperm(len(rows["train"]), generator=gen)[:subset].sort().values.tolist()
            rows["train"] = [rows["train"][i] for i in keep]
        if test_subset:
            rows["test"] = rows["test"][:test_subset]
        texts, parts, offset = [], {}, 0
        for s in splits:
            parts[s] = _split(rows[s], offset)
            texts += [text for _, text in rows[s]]
            offset += len(rows[s])
        dims = {"sentences": texts, "target": TARGETS[name]}
        record = {"splits": {s: len(rows[s]) for s in splits}}
        return Prepared(parts["train"], parts.get("dev"), parts["test"], dims, record, CLASSES[name])

    def build(self, spec, dims, engine, options):
        return spec.build(dims, engine=engine, **options)

    def hooks(self, prepared, config):
        return _Hooks(prepared.train, prepared.val, prepared.test, config, 2, prepared.classes)


class _Hooks(ClassifierHooks):
    """The classifier hooks, with ties of validation accuracy (frequent on 30-60 sentences)
    broken by the lower validation loss, so the kept epoch is not merely the first to get there."""

    def score(self, record):
        if self.val is None:
            return record["train_accuracy"] - 1e-3 * record["train_loss"]
        return record["val_accuracy"] - 1e-3 * record["val_loss"]


register_task(QNLPTask())
