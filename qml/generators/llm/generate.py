"""Circuits from a fine-tuned run: the paper's prompt in, OpenQASM 3 out, with pinned decoding.

The paper called ``model.generate`` with no sampling arguments, so the checkpoint's own
``generation_config`` decided: Qwen2.5-Instruct samples (temperature 0.7, top-p 0.8, top-k 20,
repetition penalty 1.05). Here every setting is explicit and recorded (:data:`DECODINGS`):
``"greedy"`` (the default: one beam, no repetition penalty) or ``"paper"`` (those sampling
settings), both with the paper's seed 112.
``constrained=True`` adds the grammar's logits processor (:class:`.constrained.QasmLogitsProcessor`)
for the record's register size, so every answer is a valid OpenQASM 3 prefix, cut back to its last
complete line when the token budget ends it. :func:`write_generated` writes one ``.qasm`` per record
beside a copy of the records, the folder ``ketml evaluate-circuits`` reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from circuits.errors import ConfigurationError
from qml.training.runs import RunNotFoundError

from .encoding import Encoder
from .evaluate import file_name

__all__ = [
    "DECODING",
    "DECODINGS",
    "LLMGenerator",
    "decode_answer",
    "generate_ids",
    "generate_texts",
    "load_llm",
    "write_generated",
]

#: the named decoding settings, pinned: greedy, and the paper's (its checkpoint's implicit ones)
DECODINGS: dict[str, dict[str, Any]] = {
    "greedy": {"do_sample": False, "num_beams": 1, "repetition_penalty": 1.0, "seed": 112},
    "paper": {
        "do_sample": True,
        "temperature": 0.7,
        "top_p": 0.8,
        "top_k": 20,
        "num_beams": 1,
        "repetition_penalty": 1.05,
        "seed": 112,
    },
}
#: the default decoding's settings
DECODING: dict[str, Any] = DECODINGS["greedy"]


def decoding_settings(decoding: str | dict[str, Any]) -> dict[str, Any]:
    """The settings of a named decoding (:data:`DECODINGS`), or ``decoding`` itself when a dict."""
    if isinstance(decoding, dict):
        return dict(decoding)
    if decoding not in DECODINGS:
        raise ConfigurationError(f"unknown decoding {decoding!r}: choose one of {', '.join(DECODINGS)}")
    return dict(DECODINGS[decoding])


@dataclass
class LLMGenerator:
    """A fine-tuned causal LM (``model.gpt``), its prompt encoder and its run's settings."""

    model: Any
    encoder: Encoder
    run: dict

    @property
    def context(self) -> int:
        return int(self.run["info"].get("block") or self.model.context)


def load_llm(run_dir: str | os.PathLike, device: str = "cpu") -> LLMGenerator:
    """The model of a finished ``ketml train llm-circuits`` run folder."""
    from qml.training.experiment import load_trained

    from ..tokenizer import QasmTokenizer

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunNotFoundError(
            f"no model at {run_dir}: give the run folder written by 'ketml train llm-circuits'"
        )
    for need in ("run.json", "model.pt"):
        if not (run_dir / need).is_file():
            raise RunNotFoundError(
                f"{run_dir} has no {need}: not a finished 'ketml train llm-circuits' run folder"
            )
    model, saved = load_trained(run_dir, device)
    if saved.get("task") != "llm-circuits":
        raise ConfigurationError(f"{run_dir} holds a {saved['model']} run, not an llm-circuits one")
    if saved["info"].get("base"):
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(run_dir / "tokenizer")
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
    else:
        tokenizer = QasmTokenizer.load(run_dir / "tokenizer.json")
    return LLMGenerator(model, Encoder(tokenizer), saved)


def decode_answer(gen: LLMGenerator, ids: list[int]) -> str:
    """The text of an answer's token ids (up to its ``<eos>``)."""
    enc = gen.encoder
    if enc.scratch:
        return enc.tok.decode(ids)  # stops at <eos>
    if enc.eos_id in ids:
        ids = ids[: ids.index(enc.eos_id)]
    return enc.tok.decode(ids, skip_special_tokens=True)


@torch.no_grad()
def generate_ids(
    gen: LLMGenerator,
    records: Sequence[dict],
    *,
    constrained: bool = False,
    max_new_tokens: int | None = None,
    batch_size: int = 8,
    left_pad: bool = False,
    progress: bool = False,
    decoding: str | dict[str, Any] = "greedy",
) -> list[list[int]]:
    """The token ids the model writes after each record's prompt (``decoding``: a name of
    :data:`DECODINGS` or the settings themselves; up to and including ``<eos>``, or to the
    context's end). Rows are batched by register size and
    prompt length, so no row is padded; ``left_pad`` batches by register size alone, prompts
    padded on the left (fewer, fuller batches for prompts of many lengths; an answer's budget is
    then the context less the batch's longest prompt)."""
    from tqdm.auto import tqdm
    from transformers import LogitsProcessorList

    from .constrained import QasmLogitsProcessor

    settings = decoding_settings(decoding)
    torch.manual_seed(settings.pop("seed", DECODING["seed"]))
    model = gen.model.gpt
    device = next(model.parameters()).device
    eos, pad = gen.encoder.eos_id, gen.encoder.pad_id
    prompts = [gen.encoder.prompt_ids(r) for r in records]
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (r, p) in enumerate(zip(records, prompts, strict=True)):
        groups.setdefault((r["n_qubits"], 0 if left_pad else len(p)), []).append(i)
    for g in groups.values():
        g.sort(key=lambda i: len(prompts[i]))
    batches = [(k[0], g[j : j + batch_size]) for k, g in groups.items() for j in range(0, len(g), batch_size)]
    out: list[list[int]] = [[] for _ in records]
    for n_qubits, idx in tqdm(batches, desc="generating", disable=not progress, unit="batch"):
        width = max(len(prompts[i]) for i in idx)
        budget = gen.context - width
        if budget < 1:
            continue
        new = min(budget, max_new_tokens or budget)
        ids = torch.tensor([[pad] * (width - len(prompts[i])) + prompts[i] for i in idx], device=device)
        mask = torch.tensor(
            [[0] * (width - len(prompts[i])) + [1] * len(prompts[i]) for i in idx], device=device
        )
        procs = LogitsProcessorList()
        if constrained:
            procs.append(QasmLogitsProcessor(gen.encoder.tok, n_qubits, width, eos))
        seqs = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=new,
            **settings,
            eos_token_id=eos,
            pad_token_id=pad,
            logits_processor=procs,
        )
        for row, i in zip(seqs[:, width:].tolist(), idx, strict=True):
            out[i] = row[: row.index(eos) + 1] if eos in row else row
    return out


def prompt_room(gen: LLMGenerator, record: dict) -> int:
    """Tokens the model's context leaves for the answer after ``record``'s prompt (0 or less: none,
    the answer is empty)."""
    return gen.context - len(gen.encoder.prompt_ids(record))


def generate_texts(
    gen: LLMGenerator,
    records: Sequence[dict],
    *,
    constrained: bool = False,
    max_new_tokens: int | None = None,
    batch_size: int = 8,
    progress: bool = False,
    decoding: str | dict[str, Any] = "greedy",
) -> list[str]:
    """The model's answer to each record's prompt (:func:`generate_ids`, decoded); a constrained
    answer that the token budget ends is cut back to its last complete line."""
    from .constrained import QasmGrammar

    rows = generate_ids(
        gen,
        records,
        constrained=constrained,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        progress=progress,
        decoding=decoding,
    )
    out = []
    for row, r in zip(rows, records, strict=True):
        text = decode_answer(gen, row)
        stopped = gen.encoder.eos_id in row
        out.append(QasmGrammar(r["n_qubits"]).truncate(text) if constrained and not stopped else text)
    return out


def write_generated(
    texts: Sequence[str],
    records: Sequence[dict],
    out: str | os.PathLike,
    decoding: str | dict[str, Any] = "greedy",
    **info,
) -> Path:
    """``out/<key>.qasm`` per record, ``out/records.jsonl`` (the records, for the evaluation) and
    ``out/generation.json`` (``info``, the decoding's settings and its name)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for text, r in zip(texts, records, strict=True):
        (folder / file_name(r["key"])).write_text(text)
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    named = {"decoding_name": decoding} if isinstance(decoding, str) else {}
    (folder / "generation.json").write_text(
        json.dumps({"decoding": decoding_settings(decoding), **named, **info}, indent=2) + "\n"
    )
    return folder
