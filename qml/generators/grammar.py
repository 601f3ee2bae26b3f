"""Grammar-constrained decoding for line-based circuit languages: a prefix automaton over text and
a token trie, shared by the OpenQASM 2 (KetGPT) and OpenQASM 3 (LLM generator) grammars.

A :class:`LineGrammar` says, line by line, which lines may come next given a hashable *context*
(a summary of the complete lines so far: header position, declared registers, whether a gate was
written). A decoding *state* is ``(context, tail)``, ``tail`` being the unfinished line. The
:class:`TokenTrie` walks every token of a vocabulary character by character from a state and
prunes a branch at its first character that leaves the language, so the tokens allowed in a state
cost one walk of the valid part of the trie; the result is cached per state (most tokens of a
line-level BPE are whole lines, so the state at a line start repeats and hits the cache).
:class:`GrammarLogitsProcessor` is a ``transformers`` logits processor that masks every other
token; each row of a batch may have its own grammar (e.g. its own register size) and its own
prompt state, and rows are advanced incrementally (one token per call), not re-decoded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Sequence

import torch

__all__ = [
    "GrammarLogitsProcessor",
    "LineGrammar",
    "State",
    "TokenTrie",
    "distinct_operands",
    "number_alternation",
]

#: a decoding state: the context of the complete lines and the unfinished line
State = tuple[Hashable, str]


def number_alternation(n: int) -> str:
    """A regex group matching exactly the integers ``0..n-1`` in decimal (no leading zeros)."""
    return "(?:" + "|".join(str(i) for i in range(max(n, 1))) + ")"


_OPERAND = re.compile(r"\bq\[(\d+)\]")
_OPEN_OPERAND = re.compile(r"\bq\[(\d*)$")


def distinct_operands(line: str, n_qubits: int) -> bool:
    """Whether the operands ``q[i]`` of a (partial) gate line are distinct and an unfinished last
    one can still become an index below ``n_qubits`` not used yet (``q[0],q[0`` cannot when
    ``n_qubits`` < 10: a dead end no token could leave)."""
    used = _OPERAND.findall(line)
    if len(set(used)) != len(used):
        return False
    m = _OPEN_OPERAND.search(line)
    if m is None:
        return True
    digits, taken = m.group(1), {int(u) for u in used}
    return any(j not in taken and str(j).startswith(digits) for j in range(n_qubits))


class LineGrammar:
    """A language of newline-terminated lines; subclasses define the four methods below."""

    def start(self) -> Hashable:
        """The context before the first line."""
        raise NotImplementedError

    def line_ok(self, context: Hashable, line: str, complete: bool) -> bool:
        """Whether ``line`` (without its newline) is a whole allowed line in ``context`` when
        ``complete``, else whether it can still become one."""
        raise NotImplementedError

    def advance(self, context: Hashable, line: str) -> Hashable:
        """The context after the complete, allowed ``line``."""
        raise NotImplementedError

    def can_end(self, context: Hashable) -> bool:
        """Whether the text may end (``<eos>``) after the complete lines of ``context``."""
        raise NotImplementedError

    def representative(self, state: State) -> State:
        """A state with the same continuations as ``state`` (the key of the mask cache); a
        grammar whose lines hold free values, such as angles, maps them to one value here so
        that the allowed tokens are computed once per shape, not once per value."""
        return state

    # --- generic operations on text -----------------------------------------------------------

    def feed(self, state: State | None, text: str) -> State | None:
        """The state after ``text`` from ``state`` (``None`` = the start), or ``None`` when ``text``
        leaves the language."""
        context, tail = state if state is not None else (self.start(), "")
        parts = text.split("\n")
        for part in parts[:-1]:
            line = tail + part
            if not self.line_ok(context, line, True):
                return None
            context, tail = self.advance(context, line), ""
        tail += parts[-1]
        if tail and not self.line_ok(context, tail, False):
            return None
        return context, tail

    def allows(self, text: str, state: State | None = None) -> bool:
        """Whether ``text`` (from ``state``, default the start) can still become a whole text."""
        return self.feed(state, text) is not None

    def complete(self, text: str, state: State | None = None) -> bool:
        """Whether ``text`` is a whole text: every line complete and the end allowed there."""
        after = self.feed(state, text)
        return after is not None and after[1] == "" and self.can_end(after[0])

    @staticmethod
    def truncate(text: str) -> str:
        """``text`` cut back to its last complete line (a generation stopped by a length limit)."""
        return text[: text.rfind("\n") + 1]


class TokenTrie:
    """The tokens of a vocabulary as a character trie; :meth:`allowed` lists the tokens whose whole
    text keeps a grammar state in the language."""

    def __init__(self, pieces: Sequence[str]) -> None:
        self.size = len(pieces)
        self.pieces = list(pieces)
        self.masks: dict = {}  # allowed-token masks per (grammar, state), shared by every processor
        self.root: dict = {}
        for i, piece in enumerate(pieces):
            if not piece:
                continue
            node = self.root
            for ch in piece:
                node = node.setdefault(ch, {})
            node.setdefault(None, []).append(i)  # the key None holds the ids ending here

    @classmethod
    def from_tokenizer(cls, tokenizer, vocab_size: int | None = None, skip: Sequence[int] = ()) -> TokenTrie:
        """The trie of ``tokenizer.decode([i])`` for every id (ids in ``skip`` never allowed)."""
        size = vocab_size or getattr(tokenizer, "vocab_size", None) or len(tokenizer)
        skipped = set(skip)
        return cls([tokenizer.decode([i]) if i not in skipped else "" for i in range(size)])

    def allowed(self, grammar: LineGrammar, state: State) -> list[int]:
        """Ids of the tokens allowed after ``state``."""
        out: list[int] = []
        stack = [(self.root, state)]
        while stack:
            node, st = stack.pop()
            for ch, child in node.items():
                if ch is None:
                    continue
                nxt = grammar.feed(st, ch)
                if nxt is None:
                    continue
                out.extend(child.get(None, ()))
                stack.append((child, nxt))
        return out


class GrammarLogitsProcessor:
    """A ``transformers`` logits processor keeping each row's text in its grammar.

    ``grammars`` is one grammar for all rows or one per row; ``states`` the state of each row after
    its prompt (or ``state`` one for every row; default: the start); the text checked is that of
    the tokens after the first ``prompt_length`` of each row. ``<eos>`` is allowed only where the
    grammar may end; a row with no allowed token (or one that already wrote ``<eos>``) gets
    ``<eos>`` alone.
    """

    def __init__(
        self,
        grammars: LineGrammar | Sequence[LineGrammar],
        trie: TokenTrie,
        pieces: Sequence[str],
        prompt_length: int,
        eos_token_id: int,
        states: Sequence[State | None] | None = None,
        cache_size: int = 50_000,
        *,
        state: State | None = None,
    ) -> None:
        self.grammars = grammars
        self.trie, self.pieces = trie, pieces
        self.prompt_length, self.eos = prompt_length, eos_token_id
        self.states, self.state = states, state
        self.cache_size = cache_size
        self._cache: dict[tuple[LineGrammar, State], torch.Tensor] = trie.masks
        self._rows: list[list] = []  # per row: [tokens consumed, state or None]

    def _grammar(self, row: int) -> LineGrammar:
        g = self.grammars
        return g if isinstance(g, LineGrammar) else g[row]

    def _start(self, row: int) -> State:
        st = self.states[row] if self.states is not None else self.state
        return st if st is not None else (self._grammar(row).start(), "")

    def mask(self, grammar: LineGrammar, state: State | None, size: int) -> torch.Tensor:
        """The allowed tokens after ``state`` as a boolean vector of ``size`` (cached)."""
        if state is not None:
            state = grammar.representative(state)
        key = (grammar, state)  # the grammar itself (hashed by identity), kept alive by the key
        hit = self._cache.get(key)
        if hit is not None and hit.shape[0] == size:
            return hit
        allowed = torch.zeros(size, dtype=torch.bool)
        if state is not None:
            ids = [i for i in self.trie.allowed(grammar, state) if i < size]
            allowed[ids] = True
            if state[1] == "" and grammar.can_end(state[0]) and self.eos < size:
                allowed[self.eos] = True
        if not allowed.any() and self.eos < size:
            allowed[self.eos] = True
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[key] = allowed
        return allowed

    def row_state(self, row: int, ids: Sequence[int]) -> State | None:
        """The state of ``row`` after its generated ``ids`` (advanced from the last call)."""
        while len(self._rows) <= row:
            self._rows.append([0, None, False])
        rec = self._rows[row]
        if rec[0] > len(ids) or (rec[0] == 0 and not rec[2]):  # a new sequence in this row
            rec[:] = [0, self._start(row), True]
        grammar = self._grammar(row)
        for tok in ids[rec[0] :]:
            if rec[1] is None:
                break
            if tok == self.eos:
                rec[1] = None
                break
            rec[1] = grammar.feed(rec[1], self.pieces[tok] if tok < len(self.pieces) else "")
        rec[0] = len(ids)
        return rec[1]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        size = scores.shape[-1]
        masks = []
        for row, seq in enumerate(input_ids.tolist()):
            state = self.row_state(row, seq[self.prompt_length :])
            masks.append(self.mask(self._grammar(row), state, size))
        return scores.masked_fill(~torch.stack(masks).to(scores.device), -math.inf)

    def reset(self) -> None:
        """Forget the rows (the next call starts new sequences); the mask cache is kept."""
        self._rows = []
