"""Sampling circuits from a trained language model: temperature, top-k, a sliding context window.

A circuit is drawn token by token after ``<eos>`` + the prompt (in training every circuit follows
an ``<eos>``) until the model writes ``<eos>`` or ``max_new_tokens`` are drawn. Circuits longer than
the model's context continue with the last ``context - 1`` tokens as context (the window slides by
half a context at a time, reusing the key/value cache in between). ``make_processor`` adds a
logits processor (e.g. the grammar of :mod:`.ketgpt.grammar`) per batch; it sees each row's whole
sequence (prompt and tokens drawn), not only the sliding window.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from circuits.errors import ConfigurationError

from .lm import kv_cache

__all__ = ["sample_tokens"]


def _filter_top_k(logits: torch.Tensor, top_k: int | None) -> torch.Tensor:
    if top_k is None or top_k <= 0 or top_k >= logits.shape[-1]:
        return logits
    kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


@torch.no_grad()
def sample_tokens(
    gpt,
    prompt: list[int] | list[list[int]],
    n: int,
    *,
    eos_id: int,
    temperature: float = 1.0,
    top_k: int | None = 50,
    max_new_tokens: int = 1024,
    seed: int = 0,
    batch_size: int = 16,
    progress: bool = False,
    make_processor: Callable[[int, int], Callable] | None = None,
) -> list[list[int]]:
    """``n`` continuations of ``prompt`` (token ids, without it), each ending before ``<eos>``.

    ``prompt`` may also be a list of ``n`` prompts (e.g. headers of different widths): shorter ones
    are left-padded with ``<eos>``, which the model has seen before every circuit, so that they
    are drawn in one batch. ``gpt`` is a ``GPT2LMHeadModel``; ``temperature`` 0 draws greedily.
    ``make_processor(first_row, prompt_width)`` returns a ``transformers`` logits processor for the
    batch starting at prompt ``first_row`` (padded prompts of ``prompt_width`` tokens)."""
    if temperature < 0:
        raise ConfigurationError(f"temperature must be >= 0; got {temperature}")
    if n < 1 or max_new_tokens < 1:
        raise ConfigurationError("n and max_new_tokens must be at least 1")
    gpt.eval()
    device = next(gpt.parameters()).device
    context = gpt.config.n_positions
    generator = torch.Generator(device="cpu").manual_seed(seed)
    prompts = prompt if prompt and isinstance(prompt[0], list) else [prompt] * n
    if len(prompts) != n:
        raise ConfigurationError(f"{len(prompts)} prompts for {n} samples")
    out: list[list[int]] = []
    from tqdm.auto import tqdm

    for start in tqdm(range(0, n, batch_size), desc="sampling", unit="batch", disable=not progress):
        rows = prompts[start : start + batch_size]
        b, width = len(rows), max(len(r) for r in rows)
        padded = [[eos_id] * (width - len(r)) + list(r) for r in rows]
        full = torch.tensor(padded, dtype=torch.long, device=device)
        seq = full[:, -(context - 1) :]
        processor = make_processor(start, width) if make_processor is not None else None
        done = torch.zeros(b, dtype=torch.bool, device=device)
        new: list[torch.Tensor] = []
        cache, feed = kv_cache(gpt), seq
        for _ in range(max_new_tokens):
            if feed is not seq and seq.shape[1] >= context:  # slide: keep the last half context
                seq = seq[:, -(context // 2) :]
                cache, feed = kv_cache(gpt), seq
            result = gpt(input_ids=feed, use_cache=True, **cache)
            cache = kv_cache(gpt, result)
            logits = result.logits[:, -1, :].float()
            if processor is not None:
                logits = processor(torch.cat([full, *new], dim=1), logits)
            if temperature == 0:
                nxt = logits.argmax(dim=-1, keepdim=True)
            else:
                probs = torch.softmax(_filter_top_k(logits / temperature, top_k), dim=-1)
                nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(device)
            nxt = torch.where(done[:, None], torch.full_like(nxt, eos_id), nxt)
            new.append(nxt)
            done |= nxt[:, 0] == eos_id
            if bool(done.all()):
                break
            seq = torch.cat([seq, nxt], dim=1)
            feed = nxt
        tokens = torch.cat(new, dim=1).tolist()
        for row in tokens:
            out.append(row[: row.index(eos_id)] if eos_id in row else row)
    return out
