"""The three folds and novelty for any set of circuits, against a corpus of real ones.

:class:`Verifier` is built once from a corpus (:mod:`data.algorithm_circuits`): it trains the
real-vs-random classifier on the corpus's training split against random circuits matched to them,
scores it on the test split against its own matched random circuits, and keeps the training
split's structure metrics and a novelty index. :meth:`Verifier.assess` then gives any list of QASM
texts the three folds (valid fraction with per-file reasons, the fraction called real, structural
distances to the real circuits, against a random baseline matched to the given circuits) and
novelty. :func:`verify_folder` does it for a folder of ``.qasm`` files (``ketml verify``).

Training the classifier takes minutes, so a verifier is saved (:meth:`Verifier.save`: weights and
plain data, loaded with ``torch.load(weights_only=True)``) with the SHA-256 of the corpus manifest
it was built from, and :meth:`Verifier.cached` reuses it while the corpus is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from circuits.errors import DataError

from ..qasm_text import gate_sequence, parse
from .classifier import RealRandomClassifier, load_classifier, train_classifier
from .novelty import NoveltyIndex
from .random_circuits import gate_frequencies, random_like
from .structure import MATCHED, METRICS, distances, metrics, plot_metrics
from .validity import check_file, check_text

__all__ = ["Verifier", "corpus_key", "list_qasm_files", "verify_folder"]

_FORMAT = 1


def corpus_key(corpus: str, data_root: str | None = None) -> str:
    """The SHA-256 of the manifest of corpus ``corpus`` (its files' checksums, split and spec): a
    saved verifier is valid while this is unchanged."""
    from data.algorithm_circuits import MANIFEST, load_algorithm_circuits

    folder = load_algorithm_circuits(corpus, root=data_root, progress=False).folder
    return hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()


def _auc(labels: list[int], scores: list[float]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if len(set(labels)) == 2 else float("nan")


@dataclass
class Verifier:
    """A trained real-vs-random classifier and the reference circuits of one corpus."""

    corpus: str
    classifier: RealRandomClassifier
    freqs: dict[str, float]
    reference: list[dict]
    novelty: NoveltyIndex
    heldout: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    corpus_key: str = ""

    @classmethod
    def from_corpus(
        cls,
        corpus: str = "algorithm-circuits",
        *,
        data_root: str | None = None,
        random_kind: str = "matched",
        epochs: int = 8,
        max_len: int = 256,
        seed: int = 0,
        progress: bool = False,
    ) -> Verifier:
        from data.algorithm_circuits import load_algorithm_circuits

        from ..lm_task import canonical_texts

        data = load_algorithm_circuits(corpus, root=data_root, progress=progress)
        train = [(r.text, parse(r.text)) for r in data.split("train")]
        test = [parse(r.text) for r in data.split("test")]
        real = [c for _, c in train]
        freqs = gate_frequencies(real)
        shapes = [(c.num_qubits, len(gate_sequence(c))) for c in real]
        random_train = random_like(shapes, freqs, random_kind, seed)
        clf = train_classifier(
            real, random_train, max_len=max_len, epochs=epochs, seed=seed, progress=progress
        )
        test_shapes = [(c.num_qubits, len(gate_sequence(c))) for c in test]
        random_test = random_like(test_shapes, freqs, random_kind, seed + 1)
        p_real, p_rand = clf.prob_real(test), clf.prob_real(random_test)
        labels, scores = [1] * len(p_real) + [0] * len(p_rand), p_real + p_rand
        correct = sum(p > 0.5 for p in p_real) + sum(p <= 0.5 for p in p_rand)
        heldout = {
            "accuracy": correct / max(len(scores), 1),
            "auc": _auc(labels, scores),
            "n_real": len(p_real),
            "n_random": len(p_rand),
            "real_called_real": sum(p > 0.5 for p in p_real) / max(len(p_real), 1),
            "random_called_real": sum(p > 0.5 for p in p_rand) / max(len(p_rand), 1),
            "n_train": len(real) + len(random_train),
        }
        seqs = [gate_sequence(c) for c in real]
        canon = canonical_texts(data, data.split("train"))
        novelty = NoveltyIndex([t for t, _ in train], seqs, [c.num_qubits for c in real], other_forms=canon)
        reference = [metrics(c, s) for c, s in zip(real, seqs, strict=True)]
        options = {"random_kind": random_kind, "epochs": epochs, "max_len": max_len, "seed": seed}
        key = corpus_key(corpus, data_root)
        return cls(corpus, clf, freqs, reference, novelty, heldout, options, key)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the verifier (classifier weights and plain data) to ``path``."""
        import torch

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "format": _FORMAT,
            "corpus": self.corpus,
            "corpus_key": self.corpus_key,
            "gate_names": self.classifier.vocab.gate_names,
            "max_len": self.classifier.max_len,
            "weights": self.classifier.model.state_dict(),
            "freqs": self.freqs,
            "reference": self.reference,
            "novelty": self.novelty.state(),
            "heldout": self.heldout,
            "options": self.options,
        }
        tmp = path.with_name(f".{path.name}.part")
        torch.save(state, tmp)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(
        cls, path: str | os.PathLike, corpus: str | None = None, data_root: str | None = None
    ) -> Verifier:
        """The verifier saved at ``path``; with ``corpus``, a :class:`DataError` unless it was built
        from that corpus as it is now (same manifest checksum)."""
        import torch

        path = Path(path)
        if not path.is_file():
            raise DataError(f"no saved verifier at {path}")
        try:
            state = torch.load(path, weights_only=True)
        except Exception as exc:  # torch raises several types for a file that is not its own
            raise DataError(f"{path} is not a saved verifier ({type(exc).__name__})") from None
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise DataError(f"{path} is not a saved verifier of format {_FORMAT}")
        if corpus is not None:
            if state["corpus"] != corpus:
                raise DataError(f"{path} was trained against {state['corpus']}, not {corpus}")
            key = corpus_key(corpus, data_root)
            if state["corpus_key"] != key:
                raise DataError(
                    f"{path} was trained on another version of {corpus} (manifest checksum "
                    f"{state['corpus_key'][:12]}, now {key[:12]}): delete it to retrain"
                )
        clf = load_classifier(state["gate_names"], state["max_len"], state["weights"])
        novelty = NoveltyIndex.from_state(state["novelty"])
        return cls(
            state["corpus"],
            clf,
            state["freqs"],
            state["reference"],
            novelty,
            state["heldout"],
            state["options"],
            state["corpus_key"],
        )

    @classmethod
    def cached(
        cls,
        corpus: str = "algorithm-circuits",
        *,
        path: str | os.PathLike | None = None,
        data_root: str | None = None,
        progress: bool = False,
        **options: Any,
    ) -> Verifier:
        """The verifier saved at ``path`` (default: ``$KETML_DATA/verifiers/`` under a name made of
        the corpus, its manifest checksum and the options), trained and saved there first if
        there is none."""
        if path is None:
            from data.cache import data_home

            key = corpus_key(corpus, data_root)
            tag = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:8]
            path = data_home() / "verifiers" / f"{corpus}-{key[:12]}-{tag}.pt"
        if Path(path).is_file():
            return cls.load(path, corpus, data_root)
        verifier = cls.from_corpus(corpus, data_root=data_root, progress=progress, **options)
        verifier.save(path)
        return verifier

    def reference_within(self, keep: list[bool]) -> list[dict]:
        """The structure metrics of the training circuits (in the corpus's training order) for
        which ``keep`` is true, e.g. those short enough for a model's ``max_chars``."""
        if len(keep) != len(self.reference):
            raise DataError(f"{len(keep)} flags for {len(self.reference)} training circuits")
        return [r for r, k in zip(self.reference, keep, strict=True) if k]

    def random_baseline(self, shapes: list[tuple[int, int]], seed: int = 1) -> list[str]:
        """QASM texts of random circuits matched to ``shapes`` ``(qubits, gates)``."""
        import qiskit.qasm2

        kind = self.options.get("random_kind", "matched")
        return [qiskit.qasm2.dumps(c) for c in random_like(shapes, self.freqs, kind, seed)]

    def assess(
        self,
        texts: list[str],
        names: list[str] | None = None,
        *,
        max_statevector_qubits: int = 12,
        near_threshold: float = 0.9,
        baseline: bool = True,
        plot: str | os.PathLike | None = None,
        label: str = "given",
        progress: bool = False,
        checks: list | None = None,
        engine: str = "torch",
        reference: list[dict] | None = None,
    ) -> dict[str, Any]:
        """The three folds and novelty for QASM ``texts`` (``checks``: fold-1 results already made,
        one per text, with the parsed circuit or ``None``; ``engine``: the ketml engine of the
        state-vector check; ``reference``: the structure metrics of the real circuits to compare
        with, default every training circuit of the corpus, e.g. only those a model was trained on
        via :meth:`reference_within`)."""
        ref = self.reference if reference is None else reference
        from tqdm.auto import tqdm

        names = names or [f"circuit_{i:04d}" for i in range(len(texts))]
        if checks is None:
            checks = [
                check_text(t, n, max_statevector_qubits=max_statevector_qubits, engine=engine)
                for t, n in tqdm(
                    list(zip(texts, names, strict=True)), desc="fold 1: valid", disable=not progress
                )
            ]
        valid = [(t, c) for t, (chk, c) in zip(texts, checks, strict=True) if chk.valid and c is not None]
        circuits = [c for _, c in valid]
        report: dict[str, Any] = {
            "label": label,
            "n_files": len(texts),
            "n_valid": len(valid),
            "valid_fraction": len(valid) / max(len(texts), 1),
            "invalid": [{"file": chk.name, "reason": chk.reason} for chk, _ in checks if not chk.valid],
            "methods": sorted({chk.method for chk, _ in checks if chk.valid}),
        }
        if not circuits:
            report.update(called_real_fraction=0.0, structure=None, novelty=None)
            return report
        probs = self.classifier.prob_real(circuits)
        report["called_real_fraction"] = sum(p > 0.5 for p in probs) / len(probs)  # of the valid ones
        report["called_real_of_all_files"] = sum(p > 0.5 for p in probs) / len(texts)
        report["mean_prob_real"] = sum(probs) / len(probs)
        seqs = [gate_sequence(c) for c in circuits]
        mine = [metrics(c, s) for c, s in zip(circuits, seqs, strict=True)]
        structure: dict[str, Any] = {
            "metrics": list(METRICS),
            "matched_by_construction": list(MATCHED),
            f"{label}_to_real": distances(ref, mine),
            "means": {label: _means(mine), "real": _means(ref)},
            "n_reference": len(ref),
        }
        sets = {"real (corpus train)": ref, label: mine}
        if baseline:
            shapes = [(c.num_qubits, len(s)) for c, s in zip(circuits, seqs, strict=True)]
            rand = [parse(t) for t in self.random_baseline(shapes)]
            rand_metrics = [metrics(c) for c in rand]
            structure["random_to_real"] = distances(ref, rand_metrics)
            structure["means"]["random"] = _means(rand_metrics)
            closer = [
                m
                for m in METRICS
                if m not in MATCHED and structure[f"{label}_to_real"][m] < structure["random_to_real"][m]
            ]
            structure["closer_than_random"] = closer
            r_probs = self.classifier.prob_real(rand)
            report["random_baseline_called_real_fraction"] = sum(p > 0.5 for p in r_probs) / len(r_probs)
            sets["random (matched)"] = rand_metrics
        report["structure"] = structure
        found = [
            self.novelty.check(t, s, c.num_qubits, near_threshold)
            for (t, c), s in tqdm(list(zip(valid, seqs, strict=True)), desc="novelty", disable=not progress)
        ]
        report["novelty"] = {
            "exact_copy_fraction": sum(f["exact"] for f in found) / len(found),
            "near_copy_fraction": sum(f["near"] for f in found) / len(found),
            "mean_best_similarity": sum(f["similarity"] for f in found) / len(found),
            "near_threshold": near_threshold,
        }
        if plot is not None:
            plot_metrics(sets, plot, f"structure: {label} vs real vs random")
            report["plot"] = str(plot)
        return report

    def summary(self) -> dict[str, Any]:
        return {"corpus": self.corpus, "classifier_heldout": self.heldout, **self.options}


def _means(rows: list[dict]) -> dict[str, float]:
    return {m: sum(r[m] for r in rows) / max(len(rows), 1) for m in METRICS}


def list_qasm_files(folder: str | os.PathLike) -> list[Path]:
    """The ``.qasm`` files of ``folder``, sorted; a clear :class:`DataError` for a missing,
    unreadable or empty folder."""
    folder = Path(folder)
    if not folder.exists():
        raise DataError(f"{folder} does not exist: give a folder of .qasm files")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder: give a folder of .qasm files")
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix == ".qasm" and not p.name.startswith("."))
    except OSError as exc:
        raise DataError(f"cannot read the folder {folder}: {exc.strerror or exc}") from None
    if not files:
        raise DataError(f"{folder} holds no .qasm files")
    return files


def verify_folder(
    folder: str | os.PathLike,
    *,
    against: str = "algorithm-circuits",
    data_root: str | None = None,
    out: str | os.PathLike | None = None,
    verifier: Verifier | None = None,
    max_statevector_qubits: int = 12,
    progress: bool = False,
    classifier: str | os.PathLike | None = None,
    cache: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Every fold for the ``.qasm`` files of ``folder`` against corpus ``against``; with ``out``,
    ``report.json`` and ``structure.png`` are written there. The verifier is the one saved at
    ``classifier`` (trained and saved there if missing), else the cached one for the corpus
    (:meth:`Verifier.cached`), else (``cache=False``) trained now."""
    from tqdm.auto import tqdm

    files = list_qasm_files(folder)
    results = [
        check_file(p, max_statevector_qubits=max_statevector_qubits)
        for p in tqdm(files, desc="fold 1: valid", disable=not progress)
    ]
    texts = [t for _, _, t in results]
    checks = [(chk, c) for chk, c, _ in results]
    if verifier is None and (cache or classifier is not None):
        verifier = Verifier.cached(
            against, path=classifier, data_root=data_root, progress=progress, **options
        )
    elif verifier is None:
        verifier = Verifier.from_corpus(against, data_root=data_root, progress=progress, **options)
    plot = None
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        plot = Path(out) / "structure.png"
    report = verifier.assess(texts, [p.name for p in files], checks=checks, plot=plot, progress=progress)
    report = {"folder": str(folder), "against": against, **verifier.summary(), **report}
    if out is not None:
        from qml.training.runs import write_json

        write_json(Path(out) / "report.json", report)
    return report
