"""GPT-2 language models over QASM tokens, trained from scratch: sizes, the model, chunking.

Sizes are presets of ``transformers.GPT2Config``: ``tiny`` (tests and tutorials, seconds),
``small`` (the default: trains here in minutes) and ``paper`` (GPT-2 with 6 layers and 768-wide
embeddings, the configuration noted for KetGPT; [I] the paper's exact size is not in the notes).
Dropout is 0 by default so that an interrupted and resumed run equals an uninterrupted one.
Circuits longer than the context are cut either into consecutive blocks of one stream in which every
circuit ends with ``<eos>`` (:func:`chunk`), or (:func:`chunk_pinned`, KetGPT's default) into
pieces that each start, as sampling does, with ``<eos>`` and the circuit's header, so that every
token is predicted with the register size in view; the last piece ends with ``<eos>``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from circuits.errors import ConfigurationError

__all__ = ["LM_SIZES", "LM_TRAINING", "CircuitLM", "chunk", "chunk_pinned", "gpt2_lm", "kv_cache", "make_lm"]

#: GPT-2 sizes: layers, heads, embedding width, context length (tokens).
#: the training defaults of every circuit language model (KetGPT, the LLM generator): AdamW with a
#: cosine schedule and gradient clipping, as GPT-2 is usually trained
LM_TRAINING: dict[str, object] = {
    "batch_size": 16,
    "lr": 1e-3,
    "optimizer": "adamw",
    "weight_decay": 0.01,
    "scheduler": "cosine",
    "grad_clip": 1.0,
    "eval_batch_size": 32,
}

LM_SIZES: dict[str, dict[str, int]] = {
    "tiny": {"n_layer": 2, "n_head": 2, "n_embd": 64, "n_positions": 256},
    "small": {"n_layer": 4, "n_head": 4, "n_embd": 128, "n_positions": 512},
    "paper": {"n_layer": 6, "n_head": 12, "n_embd": 768, "n_positions": 1024},
}


def gpt2_lm(
    vocab_size: int,
    *,
    n_positions: int,
    n_embd: int,
    n_layer: int,
    n_head: int,
    dropout: float = 0.0,
    eos_id: int = 0,
):
    """A randomly initialised ``transformers.GPT2LMHeadModel`` (the one GPT-2 builder of ketml:
    KetGPT, the LLM generator and GQE use it). Dropout 0 keeps sampling and training the same
    model and makes a resumed run equal an uninterrupted one."""
    try:
        from transformers import GPT2Config, GPT2LMHeadModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("GPT-2 models need transformers: pip install transformers") from exc
    hf_logging.set_verbosity_error()
    config = GPT2Config(
        vocab_size=vocab_size,
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        resid_pdrop=dropout,
        embd_pdrop=dropout,
        attn_pdrop=dropout,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
    )
    return GPT2LMHeadModel(config)


def kv_cache(model, out=None) -> dict:
    """The key/value cache argument for the next forward call: ``cache`` (a ``DynamicCache``) on
    transformers >= 5.2x, ``past_key_values`` before (the old name warns and goes in 5.40)."""
    import inspect

    if "cache" in inspect.signature(model.forward).parameters:
        from transformers import DynamicCache

        return {"cache": DynamicCache(config=model.config) if out is None else out.cache}
    return {"past_key_values": None if out is None else out.past_key_values}


def make_lm(vocab_size: int, size: str = "small", dropout: float = 0.0, **overrides: int):
    """A randomly initialised ``GPT2LMHeadModel`` of preset ``size`` (fields overridable)."""
    if size not in LM_SIZES:
        raise ConfigurationError(f"unknown model size {size!r}; known: {', '.join(LM_SIZES)}")
    fields = {**LM_SIZES[size], **{k: v for k, v in overrides.items() if v is not None}}
    return gpt2_lm(vocab_size, dropout=dropout, **fields)


class CircuitLM(nn.Module):
    """A GPT-2 over QASM tokens with the settings it was built from (``vocab_size``, ``size``,
    ``eos_id``, ``pad_id``); ``forward(ids)`` returns the next-token logits ``(B, T, V)``."""

    def __init__(
        self,
        vocab_size: int,
        size: str = "small",
        eos_id: int = 0,
        pad_id: int = 1,
        dropout: float = 0.0,
        n_layer: int | None = None,
        n_embd: int | None = None,
        n_head: int | None = None,
        n_positions: int | None = None,
    ) -> None:
        super().__init__()
        self.gpt = make_lm(
            vocab_size,
            size,
            dropout,
            n_layer=n_layer,
            n_embd=n_embd,
            n_head=n_head,
            n_positions=n_positions,
        )
        self.gpt.config.eos_token_id = self.gpt.config.bos_token_id = eos_id
        self.gpt.config.pad_token_id = pad_id
        self.eos_id, self.pad_id = eos_id, pad_id

    @property
    def context(self) -> int:
        return self.gpt.config.n_positions

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.gpt(input_ids=ids).logits

    def loss(self, blocks: torch.Tensor) -> torch.Tensor:
        """Mean next-token cross-entropy over blocks ``(B, T)`` (padding ignored)."""
        labels = blocks.clone()
        labels[labels == self.pad_id] = -100
        return self.gpt(input_ids=blocks, labels=labels).loss

    def describe(self) -> dict[str, Any]:
        c = self.gpt.config
        return {"n_layer": c.n_layer, "n_head": c.n_head, "n_embd": c.n_embd, "context": c.n_positions}


def chunk(token_lists: list[list[int]], block: int, eos_id: int, pad_id: int) -> torch.Tensor:
    """Blocks ``(N, block)`` of one stream of circuits, each followed by ``<eos>``, cut every
    ``block`` tokens; the last block is padded. Every circuit appears once, in order."""
    if block < 2:
        raise ConfigurationError(f"block must be at least 2 tokens; got {block}")
    stream: list[int] = []
    for ids in token_lists:
        stream.extend(ids)
        stream.append(eos_id)
    if not stream:
        raise ConfigurationError("no circuits to train on")
    n = -(-len(stream) // block)
    stream.extend([pad_id] * (n * block - len(stream)))
    return torch.tensor(stream, dtype=torch.long).view(n, block)


def chunk_pinned(
    circuits: list[tuple[list[int], list[list[int]]]], block: int, eos_id: int, pad_id: int
) -> torch.Tensor:
    """Blocks ``(N, block)``, one per piece of a circuit ``(header ids, [ids of each body line])``:
    each block is ``<eos>``, the header (``qreg q[N]`` and ``creg c[K]`` in view) and the next whole
    lines of the body (a line longer than a block is split), the circuit's last block ends with
    ``<eos>``; blocks are padded. A block never holds two circuits, never starts mid-line and
    never holds only the closing ``<eos>``, so that, as in sampling with the header pinned
    (:func:`.sampling.sample_tokens` ``pin``), the model always sees the header it writes for."""
    if block < 2:
        raise ConfigurationError(f"block must be at least 2 tokens; got {block}")
    rows: list[list[int]] = []
    for head, lines in circuits:
        room = block - 1 - len(head)
        if room < 3:
            raise ConfigurationError(f"a header of {len(head)} tokens leaves no room in blocks of {block}")
        pieces: list[list[list[int]]] = []
        current: list[list[int]] = []
        size = 0
        for line in lines:
            for part in [line[i : i + room - 1] for i in range(0, len(line), room - 1)]:
                if current and size + len(part) > room:
                    pieces.append(current)
                    current, size = [], 0
                current.append(part)
                size += len(part)
        if size + 1 > room:  # the closing <eos> does not fit: the last line moves on with it
            pieces.append(current[:-1])
            current = current[-1:]
        current.append([eos_id])
        pieces.append(current)
        for piece in pieces:
            row = [eos_id, *head, *(t for part in piece for t in part)]
            rows.append(row + [pad_id] * (block - len(row)))
    if not rows:
        raise ConfigurationError("no circuits to train on")
    return torch.tensor(rows, dtype=torch.long)
