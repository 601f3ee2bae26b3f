"""Grammar-aware training: the probability a language model puts on tokens its grammar forbids.

:func:`legal_masks` walks each training answer through the grammar that constrained decoding uses
(:mod:`.grammar`) and records, at every answer position, which tokens keep the text in the language
(each distinct mask stored once). :func:`illegal_mass_loss` is the mean of ``-log P(allowed)`` over
those positions. Added to the next-token loss, it teaches the model the register bound and the line
syntax at every position, not only through the one token the answer chose there, so that
*unconstrained* decoding stays in the language: a dense, off-policy form of the syntax reward
with which Vista (arXiv 2510.00967) lifted validity by reinforcement learning. Decoding is not
changed; the grammar is a training signal only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import torch

from .grammar import GrammarLogitsProcessor, LineGrammar, State, TokenTrie

__all__ = [
    "GrammarMasks",
    "illegal_mass",
    "illegal_mass_loss",
    "legal_masks",
    "next_token_loss",
]


@dataclass
class GrammarMasks:
    """``table`` ``(U, V)``: the distinct allowed-token masks; ``index`` ``(N, T)``: for the logits
    at position ``t`` of row ``n`` (which predict token ``t + 1``) the row of ``table`` that holds
    the tokens allowed there, ``-1`` where none applies (prompt, padding, a refused answer);
    ``refused``: rows whose answer the grammar does not accept (left without masks); ``strayed``:
    on-policy rows that write a forbidden token (masked up to it)."""

    table: torch.Tensor
    index: torch.Tensor
    refused: int
    strayed: int = 0


def legal_masks(
    rows: Sequence[tuple[Sequence[int], int, LineGrammar, State | None]],
    pieces: Sequence[str],
    eos_id: int,
    width: int,
    *,
    pad_id: int | None = None,
    on_policy: Sequence[bool] | None = None,
    progress: bool = False,
) -> GrammarMasks:
    """The masks of ``rows``: each ``(ids, answer_start, grammar, start_state)`` with ``ids`` the
    row's tokens (prompt, answer, ``<eos>``, padding), the answer starting at ``answer_start``.
    Masks run from the last prompt token to the token before ``<eos>`` (or before ``pad_id`` or
    the row's end: a piece of a longer circuit); a row whose answer leaves the grammar gets none
    (a mask that contradicts the reference would teach both ways). An ``on_policy`` row (the
    model's own answer, :mod:`.llm.on_policy`) keeps its masks up to and including its first
    forbidden token: that is the position the term must correct."""
    from tqdm.auto import tqdm

    vocab = len(pieces)
    trie = TokenTrie(pieces)
    keys: dict[tuple[LineGrammar, Hashable], int] = {}
    masks: list[torch.Tensor] = []
    index = torch.full((len(rows), width), -1, dtype=torch.long)
    refused = strayed = 0
    processors: dict[int, GrammarLogitsProcessor] = {}
    for n, (ids, start, grammar, state) in enumerate(tqdm(rows, desc="grammar masks", disable=not progress)):
        proc = processors.setdefault(id(grammar), GrammarLogitsProcessor(grammar, trie, pieces, 0, eos_id))
        st: State | None = state if state is not None else (grammar.start(), "")
        found: list[tuple[int, int]] = []
        ok = False
        for t in range(start - 1, min(len(ids), width) - 1):
            if ids[t + 1] == pad_id:  # a piece that goes on in the next block
                ok = True
                break
            key = (grammar, grammar.representative(st))
            k = keys.get(key)
            if k is None:
                k = keys[key] = len(masks)
                masks.append(proc.mask(grammar, st, vocab).clone())
            nxt = ids[t + 1]
            if not bool(masks[k][nxt]):
                if on_policy is not None and on_policy[n]:
                    found.append((t, k))
                    ok, strayed = True, strayed + 1
                break
            found.append((t, k))
            if nxt == eos_id:
                ok = True
                break
            st = grammar.feed(st, pieces[nxt])
            if st is None:
                break
        else:
            ok = True  # the row is full: the circuit goes on in the next block
        if not ok:
            refused += 1
            continue
        for t, k in found:
            index[n, t] = k
    table = torch.stack(masks) if masks else torch.zeros(0, vocab, dtype=torch.bool)
    return GrammarMasks(table, index, refused, strayed)


def _log_allowed(logits: torch.Tensor, index: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """``log P(allowed)`` at every masked position ``(M,)`` of ``logits`` ``(B, T, V)``."""
    sel = index >= 0
    lg = logits[sel].float()
    allowed = table[index[sel].to(table.device)].to(lg.device)  # the table may stay on the CPU
    return torch.logsumexp(lg.masked_fill(~allowed, -math.inf), dim=-1) - torch.logsumexp(lg, dim=-1)


def illegal_mass_loss(logits: torch.Tensor, index: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Mean ``-log P(allowed)`` over the masked positions (0, with gradient, when there are none)."""
    if not bool((index >= 0).any()):
        return logits.sum() * 0.0
    return -_log_allowed(logits, index, table).mean()


def next_token_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    index: torch.Tensor | None = None,
    table: torch.Tensor | None = None,
    weight: float = 0.0,
    avoid: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean cross-entropy of ``logits`` ``(B, T, V)`` against ``targets`` ``(B, T)`` (``-100``
    ignored), plus ``weight`` times :func:`illegal_mass_loss` where ``index`` (aligned with the
    logits) and ``table`` are given: the one training loss of every grammar-aware language model.
    ``avoid`` ``(B, T)`` names a token the model should not have chosen at a position
    (``-100`` elsewhere); each adds ``-log(1 - P(token))`` (unlikelihood, Welleck et al. 2019)
    and counts in the mean as a target does."""
    flat = logits.reshape(-1, logits.shape[-1]).float()
    terms = torch.nn.functional.cross_entropy(flat, targets.reshape(-1), ignore_index=-100, reduction="sum")
    count = int((targets != -100).sum())
    if avoid is not None and bool((avoid != -100).any()):
        sel = avoid.reshape(-1) != -100
        log_p = flat[sel].log_softmax(-1).gather(-1, avoid.reshape(-1)[sel, None].to(flat.device))
        terms = terms - torch.log1p(-log_p.exp().clamp(max=1 - 1e-6)).sum()
        count += int(sel.sum())
    ce = terms / count if count else logits.sum() * 0.0  # rows with masks only: no target
    if index is None or table is None or weight == 0:
        return ce
    return ce + weight * illegal_mass_loss(logits, index.to(logits.device), table)


@torch.no_grad()
def illegal_mass(
    logits_of: Callable[[torch.Tensor], torch.Tensor], ids: torch.Tensor, masks: GrammarMasks, batch: int = 32
) -> float:
    """The mean probability the model puts on forbidden tokens over the masked positions of
    ``ids`` (``logits_of(ids)`` gives the logits ``(B, T, V)``): how far free decoding strays."""
    total, count = 0.0, 0
    for i in range(0, len(ids), batch):
        index = masks.index[i : i + batch]
        if not bool((index >= 0).any()):
            continue
        width = int((index >= 0).nonzero()[:, 1].max()) + 1
        logits = logits_of(ids[i : i + batch, :width])
        p_allowed = _log_allowed(logits, index[:, :width].to(logits.device), masks.table).exp()
        total += float((1 - p_allowed).sum())
        count += int(p_allowed.numel())
    return total / max(count, 1)
