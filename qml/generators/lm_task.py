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

from .grammar_loss import GrammarMasks, illegal_mass, legal_masks, next_token_loss
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
    """Token blocks ``(N, block)`` of the train/val/test splits and the tokenizer they use; with a
    ``grammar_weight``, the grammar's allowed-token masks of the train and val blocks."""

    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor
    tokenizer: QasmTokenizer
    n_circuits: dict[str, int]
    grammar_weight: float = 0.0
    train_masks: GrammarMasks | None = None
    val_masks: GrammarMasks | None = None


def block_masks(blocks: torch.Tensor, tokenizer: QasmTokenizer, progress: bool = False) -> GrammarMasks:
    """The canonical OpenQASM 2 grammar's allowed tokens along every pinned block (``<eos>``, the
    circuit's header, then its body lines): each block's register size is read from its header,
    and the body is checked from the state after that header (a gate taken as written)."""
    from .ketgpt.grammar import qasm2_grammar
    from .qasm_text import HEADER_KEYWORDS, qubits_of_header

    eos, pad = tokenizer.eos_id, tokenizer.pad_id
    pieces = ["" if i in (eos, pad) else tokenizer.decode([i]) for i in range(tokenizer.vocab_size)]
    rows = []
    for row in blocks.tolist():
        text, start, line = "", None, ""
        for t in range(1, len(row)):
            if line == "" and row[t] not in (eos, pad) and not pieces[row[t]].startswith(HEADER_KEYWORDS):
                start = t
                break
            piece = pieces[row[t]]
            text += piece
            line = "" if piece.endswith("\n") else line + piece
        n = qubits_of_header(text)
        if start is None or n is None:
            rows.append((row, len(row), qasm2_grammar(1), None))  # no body: nothing to mask
            continue
        grammar = qasm2_grammar(n)
        state = grammar.feed(None, text)
        if state is None:  # a header outside the canonical form: nothing to mask
            rows.append((row, len(row), grammar, None))
            continue
        (pos, clbits, _), tail = state
        # a block may continue a circuit whose gates came in an earlier block: <eos> may follow
        # any complete line (looser only at the first line of a circuit's first block)
        rows.append((row, start, grammar, ((pos, clbits, True), tail)))
    return legal_masks(rows, pieces, eos, blocks.shape[1], pad_id=pad, progress=progress)


def lm_loss(model, blocks: torch.Tensor, index: torch.Tensor | None, table, weight: float) -> torch.Tensor:
    """Next-token cross-entropy over a batch of blocks (padding ignored), plus ``weight`` times the
    grammar's ``-log P(allowed)`` where ``index`` (the batch's rows of :class:`GrammarMasks`) is given."""
    if index is None or weight == 0:
        return model.loss(blocks)
    target = blocks[:, 1:].masked_fill(blocks[:, 1:] == model.pad_id, -100)
    return next_token_loss(model(blocks)[:, :-1], target, index[:, :-1], table, weight)


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
        d = self.data
        masks = d.train_masks
        index = None if masks is None else masks.index[idx]
        table = None if masks is None else masks.table
        return lm_loss(model, d.train[idx].to(self.config.device), index, table, d.grammar_weight)

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

    def val_ids(self) -> torch.Tensor:
        """The validation token rows the grammar masks follow."""
        return self.data.val

    def illegal_mass(self, model) -> float:
        """The mean probability on tokens the grammar forbids along the validation rows."""
        model.eval()
        value = illegal_mass(lambda b: model(b.to(self.config.device)), self.val_ids(), self.data.val_masks)
        model.train()
        return value

    def grammar_epoch(self, model) -> dict[str, float]:
        """``val_illegal_mass`` when trained with the grammar term, else nothing."""
        return {} if self.data.val_masks is None else {"val_illegal_mass": self.illegal_mass(model)}

    def grammar_summary(self, model) -> dict[str, Any]:
        """The grammar term's weight, final forbidden mass and refused rows (empty without it)."""
        d = self.data
        if d.val_masks is None or d.train_masks is None:
            return {}
        return {
            "grammar_weight": d.grammar_weight,
            "val_illegal_mass": self.illegal_mass(model),
            "grammar_refused": {"train": d.train_masks.refused, "val": d.val_masks.refused},
        }

    def end_epoch(self, model, generator):
        return {"val_loss": self.mean_loss(model, self.data.val), **self.grammar_epoch(model)}

    def score(self, record):
        value = record.get("val_loss", float("nan"))
        return -value if value == value else -record["train_loss"]

    def message(self, epoch, record):
        return f"epoch {epoch}: train loss {record['train_loss']:.4f}, val loss {record['val_loss']:.4f}"

    def finish(self, model, history, out_dir, title):
        from qml.training.plots import plot_losses

        test_loss = self.mean_loss(model, self.data.test)
        grammar = self.grammar_summary(model)
        self.data.tokenizer.save(Path(out_dir) / "tokenizer.json")
        plot_losses(
            {"train": history["train_loss"], "validation": history["val_loss"]},
            Path(out_dir) / "curves.png",
            title,
        )
        return {
            **grammar,
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
        grammar_weight: float = 0.0,
    ) -> Prepared:
        if grammar_weight < 0 or (grammar_weight and (form, chunking) != ("canonical", "pinned")):
            raise ConfigurationError(
                "grammar_weight must be >= 0 and needs the canonical form in pinned chunks"
                f" (got {grammar_weight}, form={form!r}, chunking={chunking!r})"
            )
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
        if grammar_weight:
            data.grammar_weight = grammar_weight
            data.train_masks = block_masks(blocks["train"], tokenizer, progress=True)
            data.val_masks = block_masks(blocks["val"], tokenizer, progress=True)
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
            "grammar_weight": grammar_weight,
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
