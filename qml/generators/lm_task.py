"""The ``circuit-lm`` task: a causal language model over a QASM corpus, through the shared trainer.

``load`` reads a corpus from :mod:`data.algorithm_circuits`, rewrites every circuit in the canonical
OpenQASM 2 form (:func:`.qasm_text.canonical`: one ``qreg q[N]``, one ``creg c[K]``, custom gates
decomposed, short angles; cached beside the corpus by each file's SHA-256; ``form="raw"`` keeps the
exported text), trains the tokenizer on the training split's text and cuts each split into blocks
of ``block`` tokens: ``chunking="pinned"`` (default) gives every piece of a circuit its own block
that starts with ``<eos>`` and the circuit's header (:func:`.lm.chunk_pinned`; the generator pins
the header in its sampling window the same way), ``"stream"`` cuts one ``<eos>``-separated stream
(:func:`.lm.chunk`); the fit is
:func:`qml.training.loop.train_loop` (checkpoint after every epoch, resume, progress bars, the
weights of the best validation loss), and writes ``tokenizer.json`` beside ``model.pt`` so the run
folder is all a generator needs.
Headline: test perplexity on circuits of unseen (family, size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from circuits.errors import ConfigurationError
from qml.registry import register_task
from qml.training.loop import Hooks
from qml.training.task import Prepared, Task

from .lm import chunk, chunk_pinned
from .tokenizer import QasmTokenizer, train_tokenizer

__all__ = [
    "CHUNKINGS",
    "CORPUS_DATASETS",
    "FORMS",
    "CircuitLMTask",
    "LMData",
    "blocks_of",
    "canonical_texts",
    "read_corpus_texts",
]

#: the corpora the task trains on (catalogue names)
CORPUS_DATASETS = ("algorithm-circuits", "algorithm-circuits-quick")


@dataclass
class LMData:
    """Token blocks ``(N, block)`` of the train/val/test splits and the tokenizer they use."""

    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor
    tokenizer: QasmTokenizer
    n_circuits: dict[str, int]


#: the text forms a corpus can be read in
FORMS = ("canonical", "raw")
#: how circuits are cut into blocks (:func:`blocks_of`)
CHUNKINGS = ("pinned", "stream")


def blocks_of(
    texts: list[str], tokenizer: QasmTokenizer, block: int, chunking: str = "pinned"
) -> torch.Tensor:
    """The training blocks of ``texts``: per circuit pieces under its pinned header
    (:func:`.lm.chunk_pinned`), or one ``<eos>``-separated stream (:func:`.lm.chunk`)."""
    from .qasm_text import split_header

    if chunking not in CHUNKINGS:
        raise ConfigurationError(f"chunking must be one of {', '.join(CHUNKINGS)}; got {chunking!r}")
    eos, pad = tokenizer.eos_id, tokenizer.pad_id
    if not texts:
        return torch.zeros(0, block, dtype=torch.long)
    ids = tokenizer.encode_batch(texts)
    if chunking == "stream":
        return chunk(ids, block, eos, pad)
    pairs = []
    for text, whole in zip(texts, ids, strict=True):
        head, body = split_header(text)
        parts = tokenizer.encode_batch([head, *body.splitlines(keepends=True)])
        if [t for part in parts for t in part] != whole:  # the line-level tokenizer never merges lines
            raise ConfigurationError("the tokenizer merges tokens across lines: cannot cut at lines")
        pairs.append((parts[0], parts[1:]))
    return chunk_pinned(pairs, block, eos, pad)


def canonical_texts(corpus, records) -> list[str]:
    """The canonical form of each record, from (and added to) the cache file beside the corpus."""
    import json
    import os

    from .qasm_text import canonical

    cache_file = corpus.folder.parent / f".{corpus.folder.name}.canonical.json"
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    out, changed = [], False
    for r in records:
        if r.sha256 not in cache:
            cache[r.sha256], changed = canonical(r.text), True
        out.append(cache[r.sha256])
    if changed:
        tmp = cache_file.with_name(cache_file.name + ".part")
        tmp.write_text(json.dumps(cache))
        os.replace(tmp, cache_file)
    return out


def read_corpus_texts(
    dataset: str, data_root: str | None = None, max_chars: int | None = None, form: str = "canonical"
):
    """``{split: [(qasm text, qubits)]}`` of a catalogued corpus in text ``form`` (circuits over
    ``max_chars`` characters left out)."""
    from data.algorithm_circuits import load_algorithm_circuits

    if form not in FORMS:
        raise ConfigurationError(f"form must be one of {', '.join(FORMS)}; got {form!r}")
    corpus = load_algorithm_circuits(dataset, root=data_root, progress=False)
    out = {}
    for split in ("train", "val", "test"):
        records = corpus.split(split)
        texts = canonical_texts(corpus, records) if form == "canonical" else [r.text for r in records]
        pairs = [(t, r.num_qubits) for t, r in zip(texts, records, strict=True)]
        out[split] = [(t, q) for t, q in pairs if max_chars is None or len(t) <= max_chars]
    return out


class CircuitLMHooks(Hooks):
    keep_best = True

    def __init__(self, data: LMData, config) -> None:
        self.data, self.config = data, config
        self.n_train = len(data.train)

    def batch_loss(self, model, idx, generator):
        return model.loss(self.data.train[idx].to(self.config.device))

    @torch.no_grad()
    def mean_loss(self, model, blocks: torch.Tensor) -> float:
        if len(blocks) == 0:
            return float("nan")
        model.eval()
        total, tokens = 0.0, 0
        for i in range(0, len(blocks), self.config.eval_batch_size):
            b = blocks[i : i + self.config.eval_batch_size].to(self.config.device)
            n = int((b[:, 1:] != model.pad_id).sum())
            total += float(model.loss(b)) * n
            tokens += n
        model.train()
        return total / max(tokens, 1)

    def end_epoch(self, model, generator):
        return {"val_loss": self.mean_loss(model, self.data.val)}

    def score(self, record):
        value = record.get("val_loss", float("nan"))
        return -value if value == value else -record["train_loss"]

    def message(self, epoch, record):
        return f"epoch {epoch}: train loss {record['train_loss']:.4f}, val loss {record['val_loss']:.4f}"

    def finish(self, model, history, out_dir, title):
        from qml.training.plots import plot_losses

        test_loss = self.mean_loss(model, self.data.test)
        self.data.tokenizer.save(Path(out_dir) / "tokenizer.json")
        plot_losses(
            {"train": history["train_loss"], "validation": history["val_loss"]},
            Path(out_dir) / "curves.png",
            title,
        )
        return {
            "test_loss": test_loss,
            "test_perplexity": math.exp(test_loss) if test_loss == test_loss else float("nan"),
            "n_blocks": {
                "train": len(self.data.train),
                "val": len(self.data.val),
                "test": len(self.data.test),
            },
            "n_circuits": self.data.n_circuits,
            "vocab_size": self.data.tokenizer.vocab_size,
            "model_shape": model.describe(),
        }


class CircuitLMTask(Task):
    name = "circuit-lm"
    kind = "QASM corpus"
    metric = "test_perplexity"
    metric_label = "test perplexity"
    description = "causal language model over OpenQASM 2 circuits (test perplexity on unseen family/size)"

    def datasets(self) -> tuple[str, ...]:
        return CORPUS_DATASETS

    def load(
        self,
        dataset,
        *,
        seed=0,
        subset=None,
        test_subset=None,
        data_root=None,
        vocab_size: int = 2000,
        block: int = 512,
        max_chars: int | None = None,
        form: str = "canonical",
        chunking: str = "pinned",
        index_tokens: bool = False,
        angle_tokens: bool = False,
    ) -> Prepared:
        pairs = read_corpus_texts(dataset, data_root, max_chars, form)
        if subset:
            pairs["train"] = pairs["train"][:subset]
        texts = {s: [t for t, _ in p] for s, p in pairs.items()}
        if not texts["train"]:
            raise ConfigurationError(f"{dataset} has no training circuits (max_chars={max_chars})")
        tokenizer = train_tokenizer(
            texts["train"], vocab_size, index_tokens=index_tokens, angle_tokens=angle_tokens
        )
        eos, pad = tokenizer.eos_id, tokenizer.pad_id
        blocks = {s: blocks_of(t, tokenizer, block, chunking) for s, t in texts.items()}
        data = LMData(
            blocks["train"], blocks["val"], blocks["test"], tokenizer, {s: len(t) for s, t in texts.items()}
        )
        dims = {"vocab_size": tokenizer.vocab_size, "eos_id": eos, "pad_id": pad, "block": block}
        record = {
            "corpus": dataset,
            "vocab_size": vocab_size,
            "block": block,
            "max_chars": max_chars,
            "form": form,
            "chunking": chunking,
            "index_tokens": index_tokens,
            "angle_tokens": angle_tokens,
            "train_qubits": [q for _, q in pairs["train"]],
        }
        return Prepared(data, dims=dims, record=record)

    def hooks(self, prepared: Prepared, config) -> Hooks:
        return CircuitLMHooks(prepared.train, config)

    def headline(self, metrics: dict[str, Any]) -> str:
        return (
            f"test perplexity: {metrics['test_perplexity']:.3f} (loss {metrics['test_loss']:.4f}; "
            f"{metrics['n_parameters']} parameters, {metrics['seconds_per_epoch']:.1f} s/epoch)"
        )


register_task(CircuitLMTask())
