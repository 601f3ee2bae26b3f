"""The rule-based DisCoCirc reading: entity wires, sentence boxes, the protagonist read on wire 0."""

from __future__ import annotations

import pytest
from lambeq.backend.grammar import Ty

from circuits.errors import DataError
from qml.qnlp.discocirc import read_text

n = Ty("n")
TEXT = "man bakes tasty lunch . he used to be a good shef . he likes mastering new recipes"


def test_entities_are_wires_and_sentences_are_boxes_on_them():
    d = read_text(TEXT)
    assert d.cod == n @ n @ n @ n  # protagonist and three objects
    names = [b.name for b in d.boxes]
    assert names[:4] == ["recipes", "shef", "lunch", "man"]  # the states
    assert [b.name for b in d.boxes if b.dom == n @ n and b.name != "SWAP"] == [
        "bakes",
        "used_to_be",
        "likes_mastering",
    ]
    assert [b.name for b in d.boxes if b.dom == n and b.cod == n] == ["tasty", "good", "new"]


def test_the_protagonist_ends_on_wire_zero():
    """Follow the protagonist's wire through the swaps: it starts last and ends first."""
    d = read_text(TEXT)
    position = 3
    for layer in d.layers:
        if layer.box.name == "SWAP":
            left = len(layer.left)
            if position in (left, left + 1):
                position = left + (left + 1 - position)
        elif layer.box.dom == n @ n:  # each verb box touches the protagonist
            assert position in (len(layer.left), len(layer.left) + 1)
    assert position == 0


def test_texts_it_cannot_read_are_data_errors():
    with pytest.raises(DataError, match="pronoun"):
        read_text("he bakes lunch")
    with pytest.raises(DataError, match="not 'man'"):
        read_text("man bakes lunch . woman eats it")
