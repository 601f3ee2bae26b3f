"""Sentence -> grammar diagram, offline: our pregroup parser, lambeq's syntax-free readers, and
Bobcat when its model is on this machine.

``pregroup`` (default) builds DisCoCat diagrams with the rule-based parser of :mod:`.pregroup`;
``cups``, ``stairs``, ``spiders`` and ``bag-of-words`` are lambeq's readers, which ignore grammar
(results from them are labelled syntax-free); ``bobcat`` is lambeq's ``BobcatParser`` on a local
model (lambeq 0.5.0 cannot download it any more: its server is gone), found in
``$KETML_BOBCAT_MODEL`` or lambeq's cache folder; ``discocirc`` reads multi-sentence texts
(:mod:`.discocirc`).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from lambeq import bag_of_words_reader, cups_reader, spiders_reader, stairs_reader
from lambeq.backend.grammar import Diagram

from circuits.errors import ConfigurationError, UnknownNameError

from .discocirc import read_text
from .pregroup import ParseError, parse, tokens

__all__ = ["READERS", "SYNTAX_FREE", "bobcat_model_dir", "read"]

_LAMBEQ_READERS = {
    "cups": cups_reader,
    "stairs": stairs_reader,
    "spiders": spiders_reader,
    "bag-of-words": bag_of_words_reader,
}
#: readers that see no grammar (their results are labelled so)
SYNTAX_FREE = tuple(_LAMBEQ_READERS)
READERS = ("pregroup", *SYNTAX_FREE, "bobcat", "discocirc")


def bobcat_model_dir() -> Path | None:
    """A local Bobcat model folder: ``$KETML_BOBCAT_MODEL``, else lambeq's cache, else None."""
    explicit = os.environ.get("KETML_BOBCAT_MODEL")
    if explicit:
        return Path(explicit) if Path(explicit).is_dir() else None
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lambeq" / "bobcat" / "bobcat"
    return cache if cache.is_dir() and any(cache.iterdir()) else None


@functools.cache
def _bobcat():
    folder = bobcat_model_dir()
    if folder is None:
        raise ConfigurationError(
            "the bobcat reader needs lambeq's Bobcat model on this machine, and lambeq 0.5.0 can no "
            "longer download it (qnlp.cambridgequantum.com is gone); put the model folder in "
            "$KETML_BOBCAT_MODEL, or use --reader pregroup (rule-based, offline) or a syntax-free reader"
        )
    from lambeq import BobcatParser

    # a folder path makes lambeq skip its downloader entirely
    return BobcatParser(model_name_or_path=str(folder), verbose="suppress")


def read(sentence: str, reader: str = "pregroup", target: str = "s") -> Diagram:
    """The grammar diagram of ``sentence`` by ``reader``; ``target`` is the type the pregroup
    parser reduces to (``"s"`` sentence, ``"n"`` noun phrase)."""
    if reader == "pregroup":
        return parse(sentence, target)
    if reader in _LAMBEQ_READERS:
        words = tokens(sentence)
        if not words:
            raise ParseError(f"{sentence!r} has no words")
        return _LAMBEQ_READERS[reader].sentence2diagram(words, tokenised=True)
    if reader == "bobcat":
        return _bobcat().sentence2diagram(tokens(sentence), tokenised=True)
    if reader == "discocirc":
        return read_text(sentence)
    raise UnknownNameError(f"unknown reader {reader!r}; known: {', '.join(READERS)}")
