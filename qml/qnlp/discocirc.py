"""A rule-based DisCoCirc reading of short texts: entities are wires, sentences are boxes on them.

A simplified stand-in for lambeq's ``DisCoCircReader`` (which needs a neural parser and a
coreference model). For texts like DisCoCirc MC's "man bakes tasty lunch . he used to be a good
shef . he likes mastering new recipes":

- the first word of the text is the protagonist; every pronoun refers to it (no coreference model);
- each sentence's last word is a new entity (its object) with a state box (the noun);
- adjectives (from a small lexicon) are one-wire boxes on that entity's wire;
- the other words between subject and object (verb, auxiliaries, gerund: "used to be",
  "thrives in testing") name the sentence's one two-wire box on (object, protagonist);
  determiners are dropped.

Simplified against lambeq: no frames or "sandwich" boxes, no parse of each sentence, one
protagonist. Wires start as ``[object_k, ..., object_1, protagonist]``; after each sentence the
protagonist swaps one place left, so it ends on wire 0, the wire the classifier reads.
"""

from __future__ import annotations

from lambeq.backend.grammar import Box, Diagram, Id, Swap, Ty, Word

from circuits.errors import DataError

__all__ = ["ADJECTIVES", "read_text", "sentences_of"]

n = Ty("n")
PRONOUNS = frozenset("he she it they him her them".split())
DETERMINERS = frozenset("a an the".split())
ADJECTIVES = frozenset(
    "tasty fast efficient nice useful delicious talented good great modest new novel complex exotic "
    "skillful".split()
)


def sentences_of(text: str) -> list[list[str]]:
    """The text's sentences (split at '.'), each as lower-case words."""
    out = []
    for part in text.split("."):
        words = [w.lower() for w in part.split() if w.strip(",;:!?")]
        if words:
            out.append(words)
    return out


def read_text(text: str) -> Diagram:
    """The DisCoCirc diagram of ``text``: a state per entity, boxes per sentence, all wires open."""
    sentences = sentences_of(text)
    if not sentences:
        raise DataError(f"{text!r} has no words")
    protagonist = sentences[0][0]
    if protagonist in PRONOUNS:
        raise DataError(f"{text!r} starts with a pronoun; its first word must name the protagonist")
    objects = []
    for words in sentences:
        if len(words) < 2:
            raise DataError(f"sentence {' '.join(words)!r} of {text!r} needs a subject and an object")
        if words[0] != protagonist and words[0] not in PRONOUNS:
            raise DataError(f"sentence {' '.join(words)!r} is about {words[0]!r}, not {protagonist!r}")
        objects.append(words[-1])
    k = len(objects)
    states = [Word(obj, n) for obj in reversed(objects)] + [Word(protagonist, n)]
    diagram = Id().tensor(*states)
    for i, words in enumerate(sentences):
        obj = k - 1 - i  # the object's wire; the protagonist is on obj + 1
        middle = [w for w in words[1:-1] if w not in DETERMINERS]
        adjectives = [w for w in middle if w in ADJECTIVES]
        verb = "_".join(w for w in middle if w not in ADJECTIVES) or "is"
        for adj in adjectives:
            diagram = diagram >> Id(n**obj) @ Box(adj, n, n) @ Id(n ** (k - obj))
        diagram = diagram >> Id(n**obj) @ Box(verb, n @ n, n @ n) @ Id(n ** (k - obj - 1))
        # the protagonist moves one wire left: next to the next object, and on wire 0 at the end
        diagram = diagram >> Id(n**obj) @ Swap(n, n) @ Id(n ** (k - obj - 1))
    return diagram
