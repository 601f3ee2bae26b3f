"""Drawing circuits from a trained KetGPT run: header prompt, temperature, top-k, valid-only filter,
grammar-constrained decoding.

A run folder of ``ketml train ketgpt`` holds ``model.pt``, ``tokenizer.json`` and ``run.json``;
:func:`load_generator` rebuilds the model from them and :func:`generate` draws circuits from the
prompt ``OPENQASM 2.0; include "qelib1.inc"; qreg q[N];``, N given or drawn from the qubit counts
of the training split, and :func:`write_circuits` writes them as ``.qasm`` files. With
``constrained=True`` every token is drawn among those that keep the text a prefix of the canonical
OpenQASM 2 form for the prompted N (:mod:`.grammar`), so every circuit parses. A circuit stopped by
``max_new_tokens`` is cut back to its last complete line (in both modes). A model trained with
its header pinned in every block (``chunking="pinned"``, :func:`qml.generators.lm.chunk_pinned`)
keeps the header (``qreg``, and ``creg`` once written) in front of the sliding window
(:func:`header_length`), so it sees the register size however long the circuit grows.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from circuits.errors import ConfigurationError
from qml.training.runs import RunNotFoundError

from ..lm import CircuitLM
from ..qasm_text import HEADER_KEYWORDS, header, parse
from ..sampling import sample_tokens
from ..tokenizer import QasmTokenizer

__all__ = ["Generator", "generate", "header_length", "load_generator", "pinned_window", "write_circuits"]


@dataclass
class Generator:
    """A trained circuit language model, its tokenizer and the qubit counts it was trained on."""

    model: CircuitLM
    tokenizer: QasmTokenizer
    train_qubits: list[int]
    run: dict
    trie: Any = None  # the token trie of constrained decoding, built on first use
    token_texts: dict[int, str] | None = None  # the text of each token id seen (header_length)

    @property
    def pinned(self) -> bool:
        """Whether the model was trained with the header pinned in every block."""
        return self.run.get("chunking") == "pinned"


def _text(gen: Generator, token: int) -> str:
    if gen.token_texts is None:
        gen.token_texts = {}
    if token not in gen.token_texts:
        gen.token_texts[token] = gen.tokenizer.decode([token])
    return gen.token_texts[token]


def pinned_window(gen: Generator, row: list[int], start: int) -> tuple[int, int]:
    """What the sliding window keeps of ``row``: its first :func:`header_length` tokens, then the
    tokens from the first line start at or after ``start`` (training pieces start at a line too)."""
    k = header_length(gen, row)
    j = max(start, k)
    while j < len(row) and not _text(gen, row[j - 1]).endswith("\n"):
        j += 1
    return k, (j if j < len(row) else start)


def header_length(gen: Generator, row: list[int]) -> int:
    """How many leading tokens of ``row`` (``<eos>`` padding, the prompt, tokens drawn) are the
    padding and the header lines (:data:`.qasm_text.HEADER_KEYWORDS`) the model has written so far:
    the part :func:`.sampling.sample_tokens` pins. A line ends a token (the tokenizer merges within
    lines only), so the header ends on a token boundary."""
    eos = gen.tokenizer.eos_id
    i = 0
    while i < len(row) and row[i] == eos:
        i += 1
    end, line = i, ""
    for j in range(i, len(row)):
        if row[j] == eos:
            break
        line += _text(gen, row[j])
        if not line.endswith("\n"):
            continue
        if not line.lstrip().startswith(HEADER_KEYWORDS):
            break
        end, line = j + 1, ""
    return end


def load_generator(run_dir: str | os.PathLike, device: str = "cpu") -> Generator:
    """The model of a finished ``ketml train ketgpt`` run folder."""
    from qml.training.experiment import load_trained

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunNotFoundError(f"no model at {run_dir}: give the run folder written by 'ketml train ketgpt'")
    for need in ("run.json", "model.pt", "tokenizer.json"):
        if not (run_dir / need).is_file():
            raise RunNotFoundError(f"{run_dir} has no {need}: not a finished 'ketml train ketgpt' run folder")
    model, saved = load_trained(run_dir, device)
    if not isinstance(model, CircuitLM):
        raise ConfigurationError(f"{run_dir} holds a {saved['model']} run, not a circuit language model")
    tokenizer = QasmTokenizer.load(run_dir / "tokenizer.json")
    qubits = saved.get("train_qubits") or []
    if not qubits:
        from data.algorithm_circuits import load_algorithm_circuits

        corpus = load_algorithm_circuits(saved.get("corpus", saved["dataset"]), progress=False)
        qubits = [r.num_qubits for r in corpus.split("train")]
    return Generator(model, tokenizer, qubits, saved)


def generate(
    gen: Generator,
    n: int,
    *,
    qubits: int | None = None,
    temperature: float = 1.0,
    top_k: int | None = 50,
    max_new_tokens: int = 2048,
    valid_only: bool = False,
    constrained: bool = False,
    max_tries: int = 5,
    seed: int = 0,
    batch_size: int = 16,
    progress: bool = False,
) -> list[str]:
    """``n`` QASM texts drawn from the header prompt (``qubits`` N, else N drawn per circuit from
    the training split's qubit counts). ``valid_only`` keeps drawing (up to ``max_tries`` x ``n``
    circuits) until ``n`` parse with Qiskit; fewer come back if that many do not. ``constrained``
    decodes with the OpenQASM 2 grammar of the prompted register (:mod:`.grammar`)."""
    from tqdm.auto import tqdm

    if n < 1:
        raise ConfigurationError(f"n must be at least 1; got {n}")
    rng = random.Random(seed)
    out: list[str] = []
    tries, round_ = 0, 0
    bar = tqdm(total=n, desc="kept", disable=not (progress and valid_only), unit="circuit")
    while len(out) < n and tries < max_tries * n:
        want = n - len(out)
        sizes = sorted(qubits or rng.choice(gen.train_qubits) for _ in range(want))
        prompts = [[gen.tokenizer.eos_id, *gen.tokenizer.encode(header(size))] for size in sizes]
        make_processor = None
        if constrained:
            from ..grammar import TokenTrie
            from .grammar import ketgpt_processor

            if gen.trie is None:
                tok = gen.tokenizer
                gen.trie = TokenTrie.from_tokenizer(tok, skip=(tok.eos_id, tok.pad_id))

            def make_processor(first: int, width: int, sizes=sizes):
                rows = sizes[first : first + batch_size]
                return ketgpt_processor(gen.tokenizer, rows, width, trie=gen.trie)

        drawn = sample_tokens(
            gen.model.gpt,
            prompts,
            want,
            eos_id=gen.tokenizer.eos_id,
            temperature=temperature,
            top_k=top_k,
            max_new_tokens=max_new_tokens,
            seed=seed + 7919 * round_,
            batch_size=batch_size,
            progress=progress,
            make_processor=make_processor,
            pin=(lambda row, start: pinned_window(gen, row, start)) if gen.pinned else None,
            compact=True,
            mask_padding=True,
        )
        texts = [
            header(size) + _cut(gen.tokenizer.decode(d), len(d) >= max_new_tokens)
            for size, d in zip(sizes, drawn, strict=True)
        ]
        tries += want
        round_ += 1
        for text in texts:
            if valid_only:
                try:
                    parse(text)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException:  # QASM2ParseError, or the parser's Rust panic on huge integers
                    continue
            out.append(text)
            bar.update(1)
        if not valid_only:
            break
    bar.close()
    return out[:n]


def _cut(text: str, stopped: bool) -> str:
    """``text`` cut back to its last complete line when the length limit ``stopped`` it."""
    return text[: text.rfind("\n") + 1] if stopped else text


def write_circuits(texts: list[str], out: str | os.PathLike, prefix: str = "ketgpt") -> list[Path]:
    """Write each text to ``out/<prefix>_NNNN.qasm`` (the folder is created); returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, text in enumerate(texts):
        path = out / f"{prefix}_{i:04d}.qasm"
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        paths.append(path)
    return paths
