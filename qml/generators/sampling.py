"""Sampling circuits from a trained language model: temperature, top-k, a sliding context window.

A circuit is drawn token by token after ``<eos>`` + the prompt (in training every circuit follows
an ``<eos>``) until the model writes ``<eos>`` or ``max_new_tokens`` are drawn. Circuits longer than
the model's context continue with the last ``context - 1`` tokens as context (the window slides by
half a context at a time, reusing the key/value cache in between); with ``pin``, each row keeps its
first tokens (e.g. the circuit's header, as KetGPT's training blocks do) in front of the window.
``make_processor`` adds a logits processor (e.g. the grammar of :mod:`.ketgpt.grammar`) per batch;
it sees each row's whole sequence (prompt and tokens drawn), not only the sliding window.
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


def _pinned_window(rows: torch.Tensor, pin: Callable, context: int, eos_id: int):
    """Each row's pinned head (left padding cut to one ``<eos>``) followed by its last tokens from
    where ``pin`` says (about half a context), left-padded with ``<eos>`` to one width."""
    half, out = context // 2, []
    for row in rows.tolist():
        k, start = pin(row, len(row) - half)
        k = min(max(int(k), 0), context // 4)
        start = min(max(int(start), k, len(row) - (context - 1 - k)), len(row))
        head = row[:k]
        while len(head) > 1 and head[0] == eos_id and head[1] == eos_id:
            head = head[1:]
        out.append(head + row[start:])
    width = max(len(r) for r in out)
    padded = [[eos_id] * (width - len(r)) + r for r in out]
    mask = [[0] * (width - len(r)) + [1] * len(r) for r in out]
    device = rows.device
    return torch.tensor(padded, dtype=torch.long, device=device), torch.tensor(mask, device=device)


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
    pin: Callable[[list[int], int], tuple[int, int]] | None = None,
    compact: bool = False,
    mask_padding: bool = False,
) -> list[list[int]]:
    """``n`` continuations of ``prompt`` (token ids, without it), each ending before ``<eos>``.

    ``prompt`` may also be a list of ``n`` prompts (e.g. headers of different widths): shorter ones
    are left-padded with ``<eos>``, which the model has seen before every circuit, so that they
    are drawn in one batch. ``gpt`` is a ``GPT2LMHeadModel``; ``temperature`` 0 draws greedily.
    ``make_processor(first_row, prompt_width)`` returns a ``transformers`` logits processor for the
    batch starting at prompt ``first_row`` (padded prompts of ``prompt_width`` tokens).
    ``pin(row, start)`` (row: the padded prompt and the tokens drawn so far; start: where the last
    half context begins) gives ``(k, start')`` when the window slides: the first ``k`` tokens of
    the row (at most a quarter of the context; left padding beyond one ``<eos>`` dropped) stay in
    front of the tokens from ``start'`` on (e.g. moved to the next line start). ``compact`` drops
    finished rows from the batch (and its key/value cache; a processor still sees every row, the
    finished ones ending in ``<eos>``), so a batch costs about the sum of its circuits' lengths
    rather than its longest one times its size; the draws then differ from uncompacted ones of the
    same seed. ``mask_padding`` hides the left padding from the model (attention mask and
    positions counted from each row's first real token), so a row draws as it would alone (KetGPT:
    every training block starts at position 0 with one ``<eos>``)."""
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
        lens = torch.tensor([len(r) for r in rows], device=device)[:, None]
        seq_mask = (torch.arange(width, device=device)[None, :] >= width - lens).long()[:, -(context - 1) :]
        processor = make_processor(start, width) if make_processor is not None else None
        done = torch.zeros(b, dtype=torch.bool, device=device)
        new: list[torch.Tensor] = []
        cache, feed = kv_cache(gpt), seq
        alive = list(range(b))  # the batch rows still drawn (all of them unless ``compact``)
        finished: dict[int, list[int]] = {}
        every: list[torch.Tensor] = [full]  # the processor's view: all b rows, <eos> once finished
        for _ in range(max_new_tokens):
            if feed is not seq and seq.shape[1] >= context:  # slide: keep the last half context
                if pin is None:
                    seq, seq_mask = seq[:, -(context // 2) :], seq_mask[:, -(context // 2) :]
                else:
                    seq, seq_mask = _pinned_window(torch.cat([full, *new], dim=1), pin, context, eos_id)
                cache, feed = kv_cache(gpt), seq
            masking = {}
            if mask_padding:
                positions = (seq_mask.cumsum(dim=1) - 1).clamp(min=0)
                masking = {"attention_mask": seq_mask, "position_ids": positions[:, -feed.shape[1] :]}
            result = gpt(input_ids=feed, use_cache=True, **masking, **cache)
            cache = kv_cache(gpt, result)
            logits = result.logits[:, -1, :].float()
            if processor is not None and len(alive) == b:
                logits = processor(torch.cat(every, dim=1), logits)
            elif processor is not None:  # compacted: the processor still sees (and keeps) every row
                index = torch.tensor(alive, device=device)
                scores = torch.zeros(b, logits.shape[-1], device=device).index_copy(0, index, logits)
                logits = processor(torch.cat(every, dim=1), scores)[index]
            if temperature == 0:
                nxt = logits.argmax(dim=-1, keepdim=True)
            else:
                probs = torch.softmax(_filter_top_k(logits / temperature, top_k), dim=-1)
                nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(device)
            nxt = torch.where(done[:, None], torch.full_like(nxt, eos_id), nxt)
            new.append(nxt)
            if processor is not None:
                col = torch.full((b, 1), eos_id, dtype=nxt.dtype, device=device)
                every.append(col.index_copy(0, torch.tensor(alive, device=device), nxt))
            done |= nxt[:, 0] == eos_id
            if bool(done.all()):
                break
            seq = torch.cat([seq, nxt], dim=1)
            seq_mask = torch.cat([seq_mask, torch.ones_like(nxt)], dim=1)
            feed = nxt
            store = next(iter(cache.values()))
            if compact and bool(done.any()) and hasattr(store, "batch_select_indices"):
                drawn = torch.cat(new, dim=1)
                for i in done.nonzero()[:, 0].tolist():
                    finished[alive[i]] = drawn[i].tolist()
                keep = (~done).nonzero()[:, 0]
                alive = [alive[i] for i in keep.tolist()]
                store.batch_select_indices(keep)
                seq, full, feed, done = seq[keep], full[keep], feed[keep], done[keep]
                seq_mask = seq_mask[keep]
                new = [x[keep] for x in new]
        drawn = torch.cat(new, dim=1).tolist()
        finished.update(zip(alive, drawn, strict=True))
        for i in range(b):
            row = finished[i]
            out.append(row[: row.index(eos_id)] if eos_id in row else row)
    return out
