"""Parts of speech of the MC and RP vocabularies, and their pregroup types (DisCoCat).

Written from ordinary English usage, not from the datasets' labels: a word that is both a noun and
a verb lists its commoner use first (weight 2, the other 1), and the parser takes the best-scoring
tagging that reduces to the sentence type. Unknown words may be any open-class tag (weight 0), so
a new sentence still parses and the model's unknown-word policy decides what they mean.
"""

from __future__ import annotations

from lambeq.backend.grammar import Ty

__all__ = ["LEXICON", "TAG_TYPES", "candidate_tags", "n", "s"]

n, s = Ty("n"), Ty("s")

#: pregroup type of each tag (de Felice's thesis; lambeq's Bobcat assigns the same to these words)
TAG_TYPES: dict[str, Ty] = {
    "noun": n,
    "adj": n @ n.l,
    "iv": n.r @ s,
    "tv": n.r @ s @ n.l,
    "rel-subj": n.r @ n @ s.l @ n,  # "device that [carry water]"
    "rel-obj": n.r @ n @ n.l.l @ s.l,  # "device that [astronomer use]"
}

_NOUNS = """man woman person meal dinner sauce program software application
activity building device document mammal material organization phenomenon player quality room
scientist vehicle archaeologist artist astronomer audience batsman batter child church company
election engine excavation family farmer festival government horse husband island monk movement
officer people pitcher police port river sailor school shepherd soldier species student teacher team
vessel""".split()
_VERBS = """prepares cooks bakes debugs runs achieve allow attract build carry contain cross destroy
discover enter establish fill haul have hit hold include increase join keep leave lose offer own
publish pull raise reflect remove replace represent require sell serve share strike submit take
teach transport visit wear win play use love study support control attack face feature show""".split()
#: words whose commoner use is the noun, though they are verbs too
_NOUN_VERBS = "water time run ship train house star fuel".split()
_ADJECTIVES = "skillful tasty useful".split()
_RELATIVES = ("that", "which", "who")

LEXICON: dict[str, list[tuple[str, int]]] = {}
for _w in _NOUNS:
    LEXICON[_w] = [("noun", 2)]
for _w in _VERBS:
    LEXICON[_w] = [*LEXICON.get(_w, []), ("tv", 1 if _w in LEXICON else 2)]
for _w in _NOUN_VERBS:
    LEXICON[_w] = [("noun", 2), ("tv", 1)]
for _w in ("use", "show", "hit", "attack", "feature", "support", "control", "love", "study", "face", "play"):
    LEXICON[_w] = [("tv", 2), ("noun", 1)]
for _w in _ADJECTIVES:
    LEXICON[_w] = [("adj", 2)]
for _w in _RELATIVES:
    LEXICON[_w] = [("rel-subj", 1), ("rel-obj", 1)]

#: tags an unknown word may take (weight 0: only when no known tagging parses)
_OPEN_CLASS = [("noun", 0), ("tv", 0), ("adj", 0), ("iv", 0)]


def candidate_tags(word: str) -> list[tuple[str, int]]:
    """``(tag, weight)`` pairs of ``word`` (lower-cased); open-class tags for an unknown word."""
    return LEXICON.get(word.lower(), _OPEN_CLASS)
