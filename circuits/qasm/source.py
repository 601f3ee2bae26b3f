"""OpenQASM source text: comments masked, offsets <-> (line, column), statements, and the
helpers that turn a parser failure into a positioned, readable message."""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Callable
from typing import Any

from ..errors import QasmError

PathLike = str | os.PathLike

_COMMENT_OR_STRING = re.compile(r'"[^"\n]*"|//[^\n]*|/\*.*?(?:\*/|\Z)', re.S)
NONSPACE = re.compile(r"\S")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _mask(text: str) -> str:
    """Blank out comments (keeping newlines) so offsets, lines and columns still match ``text``."""

    def blank(m: re.Match[str]) -> str:
        s = m.group()
        return s if s.startswith('"') else re.sub(r"[^\n]", " ", s)

    return _COMMENT_OR_STRING.sub(blank, text)


class Source:
    """Program text with lazily built comment mask and offset <-> (line, column) maps."""

    def __init__(self, text: str):
        self.text = text
        self._masked: str | None = None
        self._line_starts: list[int] | None = None

    @property
    def masked(self) -> str:
        if self._masked is None:
            self._masked = _mask(self.text)
        return self._masked

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        return self._line_starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def offset(self, line: int, column: int) -> int:
        """Character offset of a 1-based (line, column), clamped to the text."""
        starts = self.line_starts
        if line < 1:
            return 0
        if line > len(starts):
            return len(self.text)
        return min(starts[line - 1] + max(column, 1) - 1, len(self.text))

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end]

    def statements(self) -> list[tuple[int, int]]:
        """(start, end) offsets of top-level statements: ``;``-terminated or ``{...}`` blocks."""
        masked = self.masked
        spans: list[tuple[int, int]] = []
        depth, begin = 0, 0
        for m in re.finditer(r"[;{}]", masked):
            ch = m.group()
            if ch == "{":
                depth += 1
                continue
            if ch == "}":
                depth = max(depth - 1, 0)
                if depth:
                    continue
            elif depth:
                continue
            first = NONSPACE.search(masked, begin, m.end())
            if first is not None:
                spans.append((first.start(), m.end()))
            begin = m.end()
        tail = NONSPACE.search(masked, begin)
        if tail is not None:
            spans.append((tail.start(), len(masked)))
        return spans

    def snippet(self, start: int, end: int, limit: int = 60) -> str:
        """Statement text on one line, shortened for messages."""
        s = " ".join(self.masked[start:end].split())
        return s if len(s) <= limit else s[: limit - 3] + "..."

    def missing_semicolon(self, offset: int) -> QasmError:
        """Error for a ``;`` missing before ``offset``: point just after the previous token."""
        masked = self.masked
        end = len(masked[:offset].rstrip())
        begin = max(masked.rfind(ch, 0, end) for ch in ";{}") + 1
        first = NONSPACE.search(masked, begin, end)
        start = first.start() if first is not None else end
        stmt = self.snippet(start, end)
        what = f" after `{stmt}`" if stmt else ""
        return QasmError(f"missing ';'{what}", *self.position(end))

    def unclosed_brace(self) -> int | None:
        """Offset of the first ``{`` that is never closed, if any."""
        stack: list[int] = []
        for m in re.finditer(r"[{}]", self.masked):
            if m.group() == "{":
                stack.append(m.start())
            elif stack:
                stack.pop()
        return stack[0] if stack else None

    def locate_name(self, line: int, column: int, name: str) -> tuple[int, int]:
        """Move a reported (line, column) onto ``name`` when the parser's column is off."""
        text = self.line_text(line)
        col0 = column - 1
        pattern = re.compile(rf"(?<![A-Za-z0-9_$]){re.escape(name)}(?![A-Za-z0-9_])")
        if 0 <= col0 < len(text) and pattern.match(text, col0):
            return line, column
        hits = [m.start() for m in pattern.finditer(_mask(text))]
        if not hits:
            return line, column if 0 <= col0 <= len(text) else 1
        after = [h for h in hits if h >= col0]
        return line, (after[0] if after else hits[0]) + 1


def first_failing(n: int, fails: Callable[[int], bool]) -> int | None:
    """Smallest k in 1..n with ``fails(k)`` (``fails(n)`` assumed true), by bisection."""
    if n < 1:
        return None
    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi) // 2
        if fails(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def same_error(exc: BaseException) -> Callable[[Callable[[], Any]], bool]:
    """Predicate factory: does running ``fn`` raise the same kind of error as ``exc``?"""
    key = (type(exc), error_message(exc))

    def check(fn: Callable[[], Any]) -> bool:
        try:
            fn()
        except MemoryError:
            raise
        except Exception as other:  # any failure is a candidate
            return (type(other), error_message(other)) == key
        return False

    return check


def error_message(exc: BaseException) -> str:
    msg = getattr(exc, "message", None)
    return str(msg) if isinstance(msg, str) else str(exc)


def split_top(args: str) -> list[str]:
    """Split ``a, f(b, c), d`` at top-level commas."""
    parts, depth, cur = [], 0, []
    for ch in args:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in (s.strip() for s in parts) if p]


def arity_message(name: str, expected: tuple[int, int], got: tuple[int, int]) -> str | None:
    """'rx' takes 1 parameter, but got 0 -- or None when the counts match."""
    (p_exp, q_exp), (p_got, q_got) = expected, got
    if p_exp != p_got:
        noun = "parameter" if p_exp == 1 else "parameters"
        return f"gate '{name}' takes {p_exp} {noun}, but got {p_got}"
    if q_exp != q_got:
        noun = "qubit argument" if q_exp == 1 else "qubit arguments"
        return f"gate '{name}' takes {q_exp} {noun}, but got {q_got}"
    return None


def bare_message(err: QasmError) -> str:
    """The message of ``err`` without the ``(line L, column C)`` suffix QasmError adds."""
    text = str(err.args[0])
    suffix = f" (line {err.line}, column {err.column})"
    return text[: -len(suffix)] if err.line is not None and text.endswith(suffix) else text
