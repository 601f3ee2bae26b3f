"""The rule-based pregroup parser: DisCoCat types, cups, and the RP pronoun structure."""

from __future__ import annotations

import pytest
from lambeq.backend.grammar import Cup, Ty, Word

from qml.qnlp.pregroup import ParseError, parse, tag, tokens

n, s = Ty("n"), Ty("s")


def test_adjective_noun_transitive_verb_sentence_has_the_discocat_types_and_cups():
    diagram = parse("skillful man prepares tasty dinner .")
    assert diagram.cod == s
    words = [b for b in diagram.boxes if isinstance(b, Word)]
    assert [(w.name, w.cod) for w in words] == [
        ("skillful", n @ n.l),
        ("man", n),
        ("prepares", n.r @ s @ n.l),
        ("tasty", n @ n.l),
        ("dinner", n),
    ]
    assert sum(isinstance(b, Cup) for b in diagram.boxes) == 4
    # the wires each cup joins: adjective-noun, subject-verb, verb-object, adjective-noun
    _, cups = tag(tokens("skillful man prepares tasty dinner"), s)
    assert sorted(cups) == [(0, 3), (1, 2), (5, 6), (7, 8)]


def test_relative_pronouns_get_subject_and_object_types():
    subj, _ = tag(tokens("device that carry water ."), n)
    obj, _ = tag(tokens("device that astronomer use ."), n)
    assert subj == ["noun", "rel-subj", "tv", "noun"]
    assert obj == ["noun", "rel-obj", "noun", "tv"]
    that = [b for b in parse("device that astronomer use", "n").boxes if b.name == "that"][0]
    assert that.cod == n.r @ n @ n.l.l @ s.l


def test_rp_parses_agree_with_every_label(sentence_sets):
    """The lexicon is written from English usage; the parse's pronoun type matches all 105 labels
    (label 1 = object relative), so the diagrams carry the grammar the task asks about."""
    rows = sentence_sets("lambeq-rp", "train") + sentence_sets("lambeq-rp", "test")
    assert len(rows) == 105
    for label, text in rows:
        tags, _ = tag(tokens(text), n)
        assert tags[1] == ("rel-obj" if label else "rel-subj"), text


def test_every_mc_sentence_parses_to_a_sentence(sentence_sets):
    for split in ("train", "dev", "test"):
        for _, text in sentence_sets("lambeq-mc", split):
            assert parse(text).cod == s


def test_unknown_word_takes_the_tag_that_parses():
    tags, _ = tag(tokens("woman cooks tasty pasta"), s)
    assert tags == ["noun", "tv", "adj", "noun"]


def test_unparsable_sentence_is_a_parse_error():
    with pytest.raises(ParseError, match="cannot parse"):
        parse("tasty tasty", "s")
    with pytest.raises(ParseError, match="no words"):
        parse(" . ")
