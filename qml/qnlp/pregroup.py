"""A small rule-based pregroup parser: sentence -> DisCoCat diagram (``lambeq.backend.grammar``).

Words are tagged from :mod:`.lexicon`; every tagging is tried best-scoring first, and the first
whose types reduce to the target type (``s`` for a sentence, ``n`` for a noun phrase) by cups
gives the diagram. The reduction is a left-to-right stack: a wire cups with the stack's top when
they are adjoint (``x.l x`` or ``x x.r``), which for the planar, unambiguous reductions of these
vocabularies finds the one parse. Cups are handed to ``Diagram.create_pregroup_diagram`` in the
order found, which is an order in which each cup's two wires are adjacent.
"""

from __future__ import annotations

import itertools

from lambeq.backend.grammar import Cup, Diagram, Ty, Word

from circuits.errors import DataError

from .lexicon import TAG_TYPES, candidate_tags

__all__ = ["ParseError", "parse", "tag", "tokens"]

_PUNCTUATION = {".", ",", "!", "?", ";", ":"}
_MAX_TAGGINGS = 4096


class ParseError(DataError, ValueError):
    """A sentence the rule-based parser cannot reduce to the target type."""


def tokens(sentence: str) -> list[str]:
    """Lower-cased words of ``sentence`` without punctuation."""
    out = []
    for raw in sentence.split():
        word = raw.strip("".join(_PUNCTUATION)).lower()
        if word:
            out.append(word)
    return out


def _adjoint(left: Ty, right: Ty) -> bool:
    """Whether a cup joins atomic types ``left`` and ``right`` (``x.l x`` or ``x x.r``)."""
    return left.r == right or left == right.l


def _reduce(types: list[Ty], target: Ty) -> list[tuple[int, int]] | None:
    """Cups ``(i, j)`` (wire indices) that reduce ``types`` to ``target``, or None."""
    wires = [t for ty in types for t in ty]
    stack: list[int] = []
    cups = []
    for j, wire in enumerate(wires):
        if stack and _adjoint(wires[stack[-1]], wire):
            cups.append((stack.pop(), j))
        else:
            stack.append(j)
    left = Ty().tensor(*(wires[i] for i in stack)) if stack else Ty()
    return cups if left == target else None


def tag(words: list[str], target: Ty = TAG_TYPES["noun"]) -> tuple[list[str], list[tuple[int, int]]]:
    """The best-scoring tags of ``words`` that reduce to ``target``, with the cups."""
    options = [sorted(candidate_tags(w), key=lambda tw: -tw[1]) for w in words]
    taggings = sorted(itertools.product(*options), key=lambda ts: -sum(w for _, w in ts))
    for count, tagging in enumerate(taggings):
        if count >= _MAX_TAGGINGS:
            break
        cups = _reduce([TAG_TYPES[t] for t, _ in tagging], target)
        if cups is not None:
            return [t for t, _ in tagging], cups
    raise ParseError(
        f"cannot parse {' '.join(words)!r} as type {target} with the rule-based pregroup grammar"
    )


def parse(sentence: str, target: Ty | str = "s") -> Diagram:
    """The DisCoCat diagram of ``sentence`` reducing to ``target`` (``"s"`` or ``"n"``)."""
    target = Ty(target) if isinstance(target, str) else target
    words = tokens(sentence)
    if not words:
        raise ParseError(f"{sentence!r} has no words")
    tags, cups = tag(words, target)
    boxes = [Word(w, TAG_TYPES[t]) for w, t in zip(words, tags, strict=True)]
    return Diagram.create_pregroup_diagram(boxes, [(Cup, i, j) for i, j in cups])
