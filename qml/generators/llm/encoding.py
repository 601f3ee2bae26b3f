"""Prompt and answer token ids of a record, with the from-scratch tokenizer or a pretrained one:
what training (:mod:`.sft`), generation (:mod:`.generate`) and on-policy rows share."""

from __future__ import annotations

import re

from ..tokenizer import QasmTokenizer
from .prompts import chat_prompt

__all__ = ["IGNORE", "Encoder", "fixed_decimals", "prompt_pieces"]

#: the label of a token no loss is taken on (prompt, padding)
IGNORE = -100

_PIECES = re.compile(r"\d|[\[\]{}(),:]|[^\d\[\]{}(),:]+")


def prompt_pieces(text: str) -> list[str]:
    """The prompt cut into digits, brackets and punctuation, and the runs between them. The
    from-scratch tokenizer merges within a line, which would make each training graph one token
    (unreadable for a graph not seen); encoding these pieces separately keeps every node number
    its own token."""
    return _PIECES.findall(text)


_PARAMS = re.compile(r"\(([^()]*)\)")
_DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")


def fixed_decimals(qasm: str, decimals: int) -> str:
    """``qasm`` with every numeric gate angle written with exactly ``decimals`` decimals
    (``rz(0.019)`` -> ``rz(0.0190)``), so that a number always ends after the same digit count;
    angles written with ``pi`` stay as they are. Register indices are not in parentheses."""

    def angle(text: str) -> str:
        value = text.strip()
        return f"{float(value):.{decimals}f}" if _DECIMAL.fullmatch(value) else value

    return _PARAMS.sub(lambda m: "(" + ", ".join(angle(a) for a in m.group(1).split(",")) + ")", qasm)


class Encoder:
    """Prompt and answer ids with the from-scratch tokenizer or a pretrained one."""

    def __init__(self, tokenizer) -> None:
        self.tok = tokenizer
        self.scratch = isinstance(tokenizer, QasmTokenizer)
        self.eos_id = tokenizer.eos_id if self.scratch else tokenizer.eos_token_id
        self.pad_id = tokenizer.pad_id if self.scratch else tokenizer.pad_token_id

    def prompt_text(self, record: dict) -> str:
        return chat_prompt(record, None if self.scratch else self.tok)

    def ids(self, text: str) -> list[int]:
        return (
            self.tok.encode(text) if self.scratch else self.tok(text, add_special_tokens=False)["input_ids"]
        )

    def fits(self, record: dict, block: int) -> bool:
        """Whether the record's prompt, reference answer and ``<eos>`` fit in ``block`` tokens."""
        return len(self.prompt_ids(record)) + len(self.ids(record["qasm"])) + 1 <= block

    def prompt_ids(self, record: dict) -> list[int]:
        text = self.prompt_text(record)
        if not self.scratch:
            return self.ids(text)
        return [i for piece in self.tok.encode_batch(prompt_pieces(text)) for i in piece]
