"""OpenQASM 2 and 3 in and out of ``qiskit.QuantumCircuit``, with errors that point at the source.

Reading goes through Qiskit's own parsers: ``qiskit.qasm2`` with the legacy gate set (so real-world
files built on ``qelib1.inc`` with ``u1``/``u2``/``u3``/``cu1``/``rxx``... load as Qiskit's standard
gates) and, for OpenQASM 3, the reference importer ``qiskit_qasm3_import`` (falling back to Qiskit's
experimental native importer when that package is missing). Every failure on malformed input
becomes a :class:`~circuits.errors.QasmError` carrying a 1-based ``line`` and ``column``.

Free parameters survive an OpenQASM 3 round trip by name, ``ParameterVector`` elements included:
:func:`dumps` records how it renamed them in a ``// ketml:parameters`` comment that :func:`loads`
reads back (other tools see a plain comment).
"""

from __future__ import annotations

import bisect
import json
import os
import re
import sys
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, qasm2, qasm3
from qiskit.circuit import (
    Barrier,
    ControlFlowOp,
    Delay,
    Gate,
    Instruction,
    Measure,
    Parameter,
    ParameterExpression,
    ParameterVector,
    ParameterVectorElement,
    Reset,
)
from qiskit.circuit.library import GlobalPhaseGate, get_standard_gate_name_mapping

from .errors import QasmError

__all__ = ["detect_version", "dump", "dumps", "load", "loads"]

PathLike = str | os.PathLike

# --------------------------------------------------------------------------------------------
# source helpers: comment masking, positions, statements
# --------------------------------------------------------------------------------------------

_COMMENT_OR_STRING = re.compile(r'"[^"\n]*"|//[^\n]*|/\*.*?(?:\*/|\Z)', re.S)
_NONSPACE = re.compile(r"\S")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _mask(text: str) -> str:
    """Blank out comments (keeping newlines) so offsets, lines and columns still match ``text``."""

    def blank(m: re.Match[str]) -> str:
        s = m.group()
        return s if s.startswith('"') else re.sub(r"[^\n]", " ", s)

    return _COMMENT_OR_STRING.sub(blank, text)


class _Source:
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
            first = _NONSPACE.search(masked, begin, m.end())
            if first is not None:
                spans.append((first.start(), m.end()))
            begin = m.end()
        tail = _NONSPACE.search(masked, begin)
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
        first = _NONSPACE.search(masked, begin, end)
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


def _first_failing(n: int, fails: Callable[[int], bool]) -> int | None:
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


def _same_error(exc: BaseException) -> Callable[[Callable[[], Any]], bool]:
    """Predicate factory: does running ``fn`` raise the same kind of error as ``exc``?"""
    key = (type(exc), _message(exc))

    def check(fn: Callable[[], Any]) -> bool:
        try:
            fn()
        except MemoryError:
            raise
        except Exception as other:  # any failure is a candidate
            return (type(other), _message(other)) == key
        return False

    return check


def _message(exc: BaseException) -> str:
    msg = getattr(exc, "message", None)
    return str(msg) if isinstance(msg, str) else str(exc)


def _split_top(args: str) -> list[str]:
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


def _arity_message(name: str, expected: tuple[int, int], got: tuple[int, int]) -> str | None:
    """'rx' takes 1 parameter, but got 0 -- or None when the counts match."""
    (p_exp, q_exp), (p_got, q_got) = expected, got
    if p_exp != p_got:
        noun = "parameter" if p_exp == 1 else "parameters"
        return f"gate '{name}' takes {p_exp} {noun}, but got {p_got}"
    if q_exp != q_got:
        noun = "qubit argument" if q_exp == 1 else "qubit arguments"
        return f"gate '{name}' takes {q_exp} {noun}, but got {q_got}"
    return None


# --------------------------------------------------------------------------------------------
# version detection
# --------------------------------------------------------------------------------------------

_HEADER = re.compile(r"\s*OPENQASM\b")
_VERSION = re.compile(r"\s*(([0-9]+)(?:\.[0-9]+)?)")
_V3_ONLY = re.compile(
    r"(?:^|[;{}])\s*(?:qubit|bit|input|output|const|let|def|defcal|defcalgrammar|cal|box|for|"
    r"while|switch|float|angle|int|uint|bool|complex|duration|stretch|array|gphase|ctrl|negctrl|"
    r"inv|pow|extern|delay)\b"
    r'|include\s+"stdgates\.inc"|\$[0-9]+|=\s*measure\b',
    re.M,
)


def _detect(src: _Source) -> tuple[int, bool]:
    """(major version, whether the program had an ``OPENQASM`` header)."""
    masked = src.masked
    head = _HEADER.match(masked)
    if head is None:
        if _NONSPACE.search(masked) is None:
            raise QasmError("empty OpenQASM program: no statements", 1, 1)
        return (3 if _V3_ONLY.search(masked) else 2), False
    ver = _VERSION.match(masked, head.end())
    if ver is None:
        nxt = _NONSPACE.search(masked, head.end())
        where = nxt.start() if nxt is not None else len(masked)
        raise QasmError(
            "malformed version header: expected a version number after 'OPENQASM'",
            *src.position(where),
        )
    major = int(ver.group(2))
    if major not in (2, 3):
        raise QasmError(
            f"unsupported OpenQASM version {ver.group(1)}: only versions 2 and 3 can be read",
            *src.position(ver.start(1)),
        )
    return major, True


def detect_version(text: str) -> int:
    """Return 2 or 3: the ``OPENQASM`` header's major version, or a guess from 3-only syntax."""
    return _detect(_Source(text))[0]


# --------------------------------------------------------------------------------------------
# OpenQASM 2
# --------------------------------------------------------------------------------------------

_QASM2_POS = re.compile(r"(?P<file>.*?):(?P<line>\d+),(?P<col>\d+): (?P<msg>.*)\Z", re.S)
_QELIB1 = {c.name: (c.num_params, c.num_qubits) for c in qasm2.LEGACY_CUSTOM_INSTRUCTIONS}


def _qasm2_parse(text: str, include_path: Sequence[PathLike]) -> QuantumCircuit:
    return qasm2.loads(
        text,
        include_path=include_path,
        custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
        custom_classical=qasm2.LEGACY_CUSTOM_CLASSICAL,
        strict=False,
    )


def _load2(src: _Source, include_path: Sequence[PathLike], note: str) -> QuantumCircuit:
    try:
        return _qasm2_parse(src.text, include_path)
    except MemoryError:
        raise
    except Exception as exc:  # every parser failure becomes a QasmError
        err = _qasm2_error(src, exc, include_path)
        if note:
            err = QasmError(f"{_bare(err)} ({note})", err.line, err.column)
        raise err from exc


def _bare(err: QasmError) -> str:
    """The message of ``err`` without the ``(line L, column C)`` suffix QasmError adds."""
    text = str(err.args[0])
    suffix = f" (line {err.line}, column {err.column})"
    return text[: -len(suffix)] if err.line is not None and text.endswith(suffix) else text


def _qasm2_error(src: _Source, exc: Exception, include_path: Sequence[PathLike]) -> QasmError:
    msg = _message(exc)
    m = _QASM2_POS.match(msg)
    if m is not None and m.group("file") == "<input>":
        line, col, text = int(m.group("line")), int(m.group("col")) + 1, m.group("msg")
        if "';'" in text and ("needed" in text or "expecting to see" in text):
            at = len(src.text) if "end-of-file" in text else src.offset(line, col)
            return src.missing_semicolon(at)
        names = re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", text)
        if names and "not defined" in text:
            line, col = src.locate_name(line, col, names[0])
        return QasmError(text, line, col)
    if m is not None:  # the error is inside an included file
        inc = f"in included file {m.group('file')}, line {m.group('line')}"
        msg = f"{inc}, column {int(m.group('col')) + 1}: {m.group('msg')}"
        base = os.path.basename(m.group("file"))
        for hit in re.finditer(r'include\s+"([^"]*)"', src.masked):
            if os.path.basename(hit.group(1)) == base:
                return QasmError(msg, *src.position(hit.start()))
    # no position from the parser: find the first statement that triggers the same failure
    spans = src.statements()
    same = _same_error(exc)
    k = _first_failing(
        len(spans), lambda k: same(lambda: _qasm2_parse(src.text[: spans[k - 1][1]], include_path))
    )
    if k is None:
        return QasmError(msg)
    start, end = spans[k - 1]
    stmt = src.snippet(start, end).rstrip(";").strip()
    detail = _qasm2_arity(src, stmt) or msg
    return QasmError(f"error in `{stmt}`: {detail}", *src.position(start))


def _qasm2_arity(src: _Source, stmt: str) -> str | None:
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*(.*)\Z", stmt, re.S)
    if m is None or m.group(1) in ("measure", "reset", "barrier", "if", "qreg", "creg"):
        return None
    name = m.group(1)
    defined = re.search(rf"\b(?:gate|opaque)\s+{re.escape(name)}\b", src.masked)
    known = None if defined else _QELIB1.get(name)
    if known is None:
        return None
    got = (len(_split_top(m.group(2) or "")), len(_split_top(m.group(3))))
    return _arity_message(name, known, got)


# --------------------------------------------------------------------------------------------
# OpenQASM 3
# --------------------------------------------------------------------------------------------

_STDGATES = {g.name: (g.num_params, g.num_qubits) for g in qasm3.STDGATES_INC_GATES}
_BUILTIN3 = {"U": (3, 1)}
_POS3 = re.compile(r"(?P<line>\d+),(?P<col>\d+): (?P<msg>.*)\Z", re.S)


def _qasm3_importer() -> Any | None:
    """The reference importer module ``qiskit_qasm3_import``, or None when not installed."""
    try:
        import qiskit_qasm3_import
    except ImportError:
        return None
    return qiskit_qasm3_import


def _load3(src: _Source, note: str) -> QuantumCircuit:
    importer = _qasm3_importer()
    if importer is None:
        circuit = _load3_experimental(src, note)
    else:
        program = _parse3(src, note)
        try:
            circuit = importer.convert(program)
        except MemoryError:
            raise
        except Exception as exc:  # every importer failure becomes a QasmError
            raise _convert3_error(src, program, importer, exc, note) from exc
    return _restore_parameters(src.text, circuit)


class _SyntaxErrors:
    """ANTLR error listener that records syntax errors instead of printing them."""

    def __init__(self) -> None:
        self.errors: list[tuple[int, int, str, Any]] = []

    def syntaxError(self, recognizer, offending, line, column, msg, e):  # ANTLR API name
        self.errors.append((line, column, msg, offending))

    def reportAmbiguity(self, *args):  # ANTLR API name
        pass

    def reportAttemptingFullContext(self, *args):  # ANTLR API name
        pass

    def reportContextSensitivity(self, *args):  # ANTLR API name
        pass


def _parse3(src: _Source, note: str) -> Any:
    """OpenQASM 3 text -> ``openqasm3.ast.Program``; syntax errors become positioned QasmErrors."""
    import openqasm3
    from openqasm3 import parser as p

    needed = ("qasm3Lexer", "qasm3Parser", "InputStream", "CommonTokenStream", "QASMNodeVisitor")
    if not all(hasattr(p, name) for name in needed):  # pragma: no cover - other openqasm3 layout
        try:
            return openqasm3.parse(src.text)
        except Exception as exc:
            where = _syntax_position(exc)
            raise QasmError(f"OpenQASM 3 syntax error{_paren(note)}", *where) from exc
    listener = _SyntaxErrors()
    lexer = p.qasm3Lexer(p.InputStream(src.text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser = p.qasm3Parser(p.CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    tree = parser.program()
    if listener.errors:
        line, col0, msg, tok = listener.errors[0]
        err = _syntax_error(src, line, col0 + 1, msg, tok)
        raise QasmError(f"{_bare(err)}{_paren(note)}", err.line, err.column)
    try:
        return p.QASMNodeVisitor().visitProgram(tree)
    except Exception as exc:  # the AST builder rejects some parsed constructs
        ctx = getattr(exc, "__cause__", None)
        raise QasmError(
            f"{_message(exc) or type(exc).__name__}{_paren(note)}", *_syntax_position(ctx or exc)
        ) from exc


def _paren(note: str) -> str:
    return f" ({note})" if note else ""


def _syntax_position(exc: BaseException | None) -> tuple[int | None, int | None]:
    while exc is not None:
        args = getattr(exc, "args", ())
        for a in (exc, *args):
            tok = getattr(a, "offendingToken", None) or getattr(a, "start", None)
            if tok is not None and hasattr(tok, "line"):
                return tok.line, tok.column + 1
        exc = exc.__cause__ or exc.__context__
    return None, None


def _syntax_error(src: _Source, line: int, col: int, msg: str, tok: Any) -> QasmError:
    text = getattr(tok, "text", None)
    at_eof = text == "<EOF>" or (tok is not None and getattr(tok, "type", 0) == -1)
    if msg.startswith("missing ';'"):
        return src.missing_semicolon(len(src.text) if at_eof else src.offset(line, col))
    if at_eof:
        brace = src.unclosed_brace()
        if brace is not None:
            return QasmError("unclosed '{': no matching '}' before the end", *src.position(brace))
        return QasmError("unexpected end of program", line, col)
    m = re.match(r"token recognition error at: '(.*)'\Z", msg, re.S)
    if m:
        return QasmError(f"invalid character {m.group(1)!r}", line, col)
    m = re.match(r"(?:mismatched|extraneous) input '(.*)' expecting (.*)\Z", msg, re.S)
    if m:
        expected = m.group(2)
        if expected.startswith("{") and expected.count(",") >= 6:
            return QasmError(f"syntax error: unexpected '{m.group(1)}'", line, col)
        return QasmError(f"syntax error: expected {expected}, found '{m.group(1)}'", line, col)
    m = re.match(r"missing (.*) at '(.*)'\Z", msg, re.S)
    if m:
        return QasmError(f"syntax error: missing {m.group(1)} before '{m.group(2)}'", line, col)
    if msg.startswith("no viable alternative") and text is not None:
        return QasmError(f"syntax error: unexpected '{text}'", line, col)
    return QasmError(f"syntax error: {msg}", line, col)


def _convert3_error(src: _Source, program: Any, importer: Any, exc: Exception, note: str):
    msg = _message(exc)
    m = _POS3.match(msg)
    if m is not None:
        line, col, text = int(m.group("line")), int(m.group("col")) + 1, m.group("msg")
        text = re.sub(r" in symbol table in this scope: Scope\.\w+", "", text)
        text = text.replace("Symbol ", "").replace("already inserted", "is already defined")
        if "'FunctionCall' cannot be resolved" in text:
            text = "function calls such as sin(...) are not supported in OpenQASM 3 expressions"
        names = re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", text)
        if names:
            line, col = src.locate_name(line, col, names[0])
        elif text.startswith("required a"):
            word = re.match(r"[A-Za-z_][A-Za-z0-9_]*|[^\s;]+", src.text[src.offset(line, col) :])
            if word is not None:
                text = f"{text}, but got '{word.group()}'"
        return QasmError(f"{text}{_paren(note)}", line, col)
    # no position: convert ever longer prefixes of the program until the same failure appears
    from openqasm3 import ast

    stmts = list(program.statements)
    same = _same_error(exc)

    def fails(k: int) -> bool:
        sub = ast.Program(statements=stmts[:k], version=program.version)
        return same(lambda: importer.convert(sub))

    k = _first_failing(len(stmts), fails)
    span = getattr(stmts[k - 1], "span", None) if k else None
    if span is None:
        return QasmError(f"{msg or type(exc).__name__}{_paren(note)}")
    start = src.offset(span.start_line, span.start_column + 1)
    end = src.offset(span.end_line, span.end_column + 2)
    stmt = src.snippet(start, end).rstrip(";").strip()
    detail = _qasm3_arity(stmts, stmts[k - 1]) or msg or type(exc).__name__
    message = f"error in `{stmt}`: {detail}{_paren(note)}"
    return QasmError(message, span.start_line, span.start_column + 1)


def _qasm3_arity(stmts: list[Any], stmt: Any) -> str | None:
    from openqasm3 import ast

    if not isinstance(stmt, ast.QuantumGate) or stmt.modifiers:
        return None
    known: dict[str, tuple[int, int]] = dict(_BUILTIN3)
    for s in stmts:
        if isinstance(s, ast.Include) and s.filename == "stdgates.inc":
            known.update(_STDGATES)
        elif isinstance(s, ast.QuantumGateDefinition):
            known[s.name.name] = (len(s.arguments), len(s.qubits))
    name = stmt.name.name
    if name not in known:
        return None
    return _arity_message(name, known[name], (len(stmt.arguments), len(stmt.qubits)))


# Qiskit's experimental native importer prints its diagnostics; we capture and parse them.
_NATIVE_DIAG = re.compile(
    r"Error: (?P<msg>[^\n]*)\n.*?\[[^\]\n]*?"  # the kind of error, then [file:LINE:COL]
    r":(?P<line>\d+):(?P<col>\d+)\]",
    re.S,
)


_NATIVE_KINDS = {
    "UndefVarError": "undefined name",
    "UndefGateError": "undefined gate",
    "NumGateParamsError": "wrong number of gate parameters",
    "NumGateQubitsError": "wrong number of qubit arguments",
    "IncompatibleTypesError": "incompatible types",
    "RedeclarationError": "name already defined",
}


def _shorten(msg: str, limit: int = 200) -> str:
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


def _native_loads(text: str) -> QuantumCircuit:
    """Qiskit's experimental native importer, used knowingly: its warning is not news."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", qasm3.ExperimentalWarning)
        return qasm3.loads_experimental(text)


def _run_capturing_output(fn: Callable[[], Any]) -> tuple[Any, BaseException | None, str]:
    """Run ``fn`` with file descriptors 1 and 2 captured; return (result, exception, output)."""
    sys.stdout.flush()
    sys.stderr.flush()
    result, error = None, None
    with tempfile.TemporaryFile() as tmp:
        saved = (os.dup(1), os.dup(2))
        try:
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            try:
                result = fn()
            except MemoryError:
                raise
            except Exception as exc:
                error = exc
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        tmp.seek(0)
        output = tmp.read().decode("utf-8", errors="replace")
    return result, error, output


def _load3_experimental(src: _Source, note: str) -> QuantumCircuit:
    hint = "install qiskit-qasm3-import for full OpenQASM 3 support"
    note = f"{note}; {hint}" if note else hint
    circuit, exc, output = _run_capturing_output(lambda: _native_loads(src.text))
    if exc is None:
        return circuit
    m = _NATIVE_DIAG.search(output)
    if m is not None:
        kind = m.group("msg").strip()
        raise QasmError(
            f"{_NATIVE_KINDS.get(kind, kind)} ({note})", int(m.group("line")), int(m.group("col"))
        ) from exc
    spans = src.statements()
    key = _message(exc)
    short = _shorten(key)

    def fails(k: int) -> bool:
        prefix = src.text[: spans[k - 1][1]]
        _, other, _ = _run_capturing_output(lambda: _native_loads(prefix))
        return other is not None and _message(other) == key

    k = _first_failing(len(spans), fails)
    if k is None:
        raise QasmError(f"{short} ({note})") from exc
    start, end = spans[k - 1]
    message = f"error in `{src.snippet(start, end)}`: {short} ({note})"
    raise QasmError(message, *src.position(start)) from exc


# --------------------------------------------------------------------------------------------
# parameter names across an OpenQASM 3 round trip
# --------------------------------------------------------------------------------------------

_PARAM_NOTE = re.compile(r"^[ \t]*//[ \t]*ketml:parameters[ \t]+(\{.*\})[ \t]*$", re.M)
_INPUT_DECL = re.compile(r"^input\s+float\[64\]\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", re.M)


def _restore_parameters(text: str, circuit: QuantumCircuit) -> QuantumCircuit:
    """Give parameters back the names (and ParameterVectors) recorded by :func:`dumps`."""
    m = _PARAM_NOTE.search(text)
    if m is None or not circuit.parameters:
        return circuit
    try:
        note = json.loads(m.group(1))
    except ValueError:
        return circuit
    if not isinstance(note, dict):
        return circuit
    by_name = {p.name: p for p in circuit.parameters}
    vectors: dict[tuple[str, int], ParameterVector] = {}
    mapping: dict[Parameter, Parameter] = {}
    for exported, spec in note.items():
        param = by_name.get(exported)
        if param is None or not isinstance(spec, list):
            continue
        is_vector = len(spec) == 3 and isinstance(spec[0], str)
        if is_vector and all(isinstance(v, int) for v in spec[1:]):
            name, index, length = spec
            if not 0 <= index < length:
                continue
            if (name, length) not in vectors:
                vectors[name, length] = ParameterVector(name, length)
            mapping[param] = vectors[name, length][index]
        elif len(spec) == 1 and isinstance(spec[0], str):
            mapping[param] = Parameter(spec[0])
    kept = [p.name for p in by_name.values() if p not in mapping]
    names = [p.name for p in mapping.values()] + kept
    if mapping and len(set(names)) == len(names):
        circuit.assign_parameters(mapping, inplace=True, strict=False)
    return circuit


def _identifier(name: str) -> str:
    """A plain OpenQASM identifier resembling ``name`` (Greek letters spelled out: θ -> theta)."""
    out = []
    for ch in name:
        if ch.isascii():
            out.append(ch if ch.isalnum() or ch == "_" else "_")
        elif ch.isalpha():
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            word = unicodedata.name(ch, "").split()
            out.append(plain or (word[-1].lower() if word and word[-1].isascii() else "_"))
        else:
            out.append("_")
    ident = re.sub(r"_+", "_", "".join(out)).strip("_") or "param"
    return ident if re.match(r"[A-Za-z_]", ident) else "p_" + ident


def _export_names(circuit: QuantumCircuit) -> dict[Parameter, Parameter]:
    """Readable plain-identifier stand-ins for vector elements and oddly named parameters."""
    taken = {
        p.name
        for p in circuit.parameters
        if _IDENT.match(p.name) and not isinstance(p, ParameterVectorElement)
    }
    mapping: dict[Parameter, Parameter] = {}
    for p in circuit.parameters:
        if isinstance(p, ParameterVectorElement):
            base = f"{p.vector.name}_{p.index}"
        elif _IDENT.match(p.name):
            continue
        else:
            base = p.name
        base = _identifier(base)
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        mapping[p] = Parameter(name)
    return mapping


def _parameter_note(
    exported: QuantumCircuit,
    mapping: dict[Parameter, Parameter],
    text: str,
) -> dict[str, list]:
    """Exported input name -> original name (``[name]``) or ``[vector, index, length]``.

    The exporter declares inputs in ``circuit.parameters`` order, renaming any that clash with
    gate names or keywords, so declarations and parameters are matched by position.
    """
    back = {new: old for old, new in mapping.items()}
    declared = _INPUT_DECL.findall(text)
    params = list(exported.parameters)
    if len(declared) == len(params):
        pairs = list(zip(params, declared, strict=True))
    else:  # pragma: no cover - exporter layout changed; fall back to exact names
        pairs = [(p, p.name) for p in params if p.name in set(declared)]
    note: dict[str, list] = {}
    for param, name in pairs:
        orig = back.get(param, param)
        if name == orig.name:
            continue
        if isinstance(orig, ParameterVectorElement):
            note[name] = [orig.vector.name, orig.index, len(orig.vector)]
        else:
            note[name] = [orig.name]
    return note


# --------------------------------------------------------------------------------------------
# making a circuit exportable
# --------------------------------------------------------------------------------------------

_STANDARD = get_standard_gate_name_mapping()
_KEEP = (Measure, Reset, Barrier, Delay)
_PLAIN_NAMES = (frozenset(_STANDARD) - {"global_phase"}) | {"measure", "reset", "barrier", "delay"}


def _plain_params(params: Sequence[Any]) -> bool:
    """True when every parameter is a real number or a symbolic expression."""
    for p in params:
        if isinstance(p, bool) or not isinstance(
            p, (int, float, np.integer, np.floating, ParameterExpression)
        ):
            return False
    return True


def _is_standard(op: Any) -> bool:
    std = _STANDARD.get(op.name)
    return std is not None and type(op) is type(std)


def _synthesize(op: Any) -> QuantumCircuit:
    """A circuit of instructions for an abstract operation, via Qiskit's HighLevelSynthesis."""
    from qiskit.transpiler.passes import HighLevelSynthesis

    single = QuantumCircuit(op.num_qubits, op.num_clbits)
    single.append(op, single.qubits, single.clbits)
    try:
        circuit = HighLevelSynthesis()(single)
    except Exception as exc:
        raise ValueError(f"cannot write operation '{op.name}' as OpenQASM: {exc}") from exc
    return _exportable(circuit)[0]


def _exportable(circuit: QuantumCircuit) -> tuple[QuantumCircuit, bool]:
    """Rewrite what Qiskit's exporters mis-handle; returns (circuit, whether anything changed).

    Zero-qubit ``GlobalPhaseGate``s move into the global phase, composite non-gate instructions
    (e.g. ``QuantumVolume`` layers) are inlined, operations that are not instructions
    (``AnnotatedOperation``, ``Clifford``...) are synthesized, and gates whose parameters are not
    real numbers (``DiagonalGate``, ``PauliGate``, ``HamiltonianGate``...) become plain gates
    built from their definitions, recursively.
    """
    if all(name in _PLAIN_NAMES for name in circuit.count_ops()):
        return circuit, False  # fast path: nothing but standard gates and directives
    items: list[tuple[Any, Any, Any] | tuple[QuantumCircuit, Any, Any, None]] = []
    phase = circuit.global_phase
    changed = False
    for inst in circuit.data:
        op = inst.operation
        if isinstance(op, GlobalPhaseGate):
            phase += op.params[0]
            changed = True
        elif isinstance(op, ControlFlowOp):
            blocks = [_exportable(b) for b in op.blocks]
            if any(ch for _, ch in blocks):
                op = op.replace_blocks([b for b, _ in blocks])
                changed = True
            items.append((op, inst.qubits, inst.clbits))
        elif not isinstance(op, Instruction):  # AnnotatedOperation, Clifford, ...
            items.append((_synthesize(op), inst.qubits, inst.clbits, None))
            changed = True
        elif isinstance(op, _KEEP) or _is_standard(op) or op.definition is None:
            items.append((op, inst.qubits, inst.clbits))
        else:
            definition, inner = _exportable(op.definition)
            if isinstance(op, Gate) and _plain_params(op.params) and not inner:
                items.append((op, inst.qubits, inst.clbits))
            elif isinstance(op, Gate):
                gate = definition.to_gate()
                gate.name = op.name
                items.append((gate, inst.qubits, inst.clbits))
                changed = True
            else:
                items.append((definition, inst.qubits, inst.clbits, None))
                changed = True
    if not changed:
        return circuit, False
    out = circuit.copy_empty_like()
    out.global_phase = phase
    for item in items:
        if len(item) == 4:
            out.compose(item[0], qubits=item[1], clbits=item[2], inplace=True)
        else:
            out.append(item[0], item[1], item[2], copy=False)
    return out, True


_SAFE_EXPR = re.compile(r"[A-Za-z0-9_.+\-*/() ]+\Z")


def _gphase_statement(phase: Any, text: str) -> str:
    """``gphase(...);`` for a nonzero global phase that OpenQASM 3 text can state, else ''."""
    if isinstance(phase, ParameterExpression):
        try:
            phase = float(phase)
        except (TypeError, ValueError):
            expr = str(phase)
            names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr))
            declared = set(_INPUT_DECL.findall(text))
            safe = _SAFE_EXPR.match(expr) and "**" not in expr  # the importer lacks '**'
            if not safe or not names <= declared | {"pi", "e"}:
                return ""
            return f"gphase({expr});\n"
    phase = float(phase)
    if phase == 0.0 or not np.isfinite(phase):
        return ""
    return f"gphase({phase!r});\n"


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def loads(text: str, *, include_path: Iterable[PathLike] | None = None) -> QuantumCircuit:
    """Parse an OpenQASM 2 or 3 program into a ``QuantumCircuit``.

    The version comes from the ``OPENQASM`` header; without one, a program using 3-only syntax
    (``qubit``, ``input``, ``stdgates.inc``...) is read as 3, anything else as 2. OpenQASM 3
    ``input float[64] name;`` declarations become free ``Parameter``s. ``include_path`` is searched
    for OpenQASM 2 includes (``qelib1.inc`` is built in).

    Raises:
        QasmError: malformed or unsupported input, with the 1-based ``line`` and ``column``.
    """
    if not isinstance(text, str):
        hint = "; use load(path) for files" if isinstance(text, os.PathLike) else ""
        kind = type(text).__name__
        raise TypeError(f"loads() takes OpenQASM program text (str), not {kind}{hint}")
    stripped = text.strip()
    if (
        stripped
        and ";" not in stripped
        and "\n" not in stripped
        and re.search(r"\.(qasm|qasm2|qasm3|inc)\Z", stripped)
    ):
        raise QasmError(
            f"{stripped!r} looks like a file name: loads() takes program text, use load(path)",
            1,
            1,
        )
    if text.startswith("\ufeff"):  # byte-order mark: blank it, keeping columns
        text = " " + text[1:]
    src = _Source(text)
    version, had_header = _detect(src)
    note = "" if had_header else f"no OPENQASM header; read as OpenQASM {version}"
    if version == 2:
        path = tuple(include_path) if include_path is not None else ()
        return _load2(src, (*path, *qasm2.LEGACY_INCLUDE_PATH), note)
    return _load3(src, note)


def load(path: PathLike) -> QuantumCircuit:
    """Read an OpenQASM 2 or 3 file; OpenQASM 2 includes are also searched beside the file."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise QasmError(f"{path} is not UTF-8 text", line, column) from exc
    return loads(text, include_path=[path.parent])


def dumps(circuit: QuantumCircuit, version: int = 3) -> str:
    """Write a circuit as OpenQASM ``version`` 2 or 3 text.

    OpenQASM 3 keeps free parameters as ``input float[64]`` declarations (names restored by
    :func:`loads`); OpenQASM 2 cannot hold them, so bind them first.

    Raises:
        ValueError: ``version`` is not 2 or 3, or the circuit cannot be expressed in that version
            (free parameters in OpenQASM 2, instructions the exporter does not support).
    """
    if not isinstance(circuit, QuantumCircuit):
        raise TypeError(f"dumps() takes a qiskit QuantumCircuit, not {type(circuit).__name__}")
    if isinstance(version, bool) or version not in (2, 3):
        raise ValueError(f"OpenQASM version must be 2 or 3, not {version!r}")
    if version == 2:
        if circuit.parameters:
            names = [p.name for p in circuit.parameters]
            shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            raise ValueError(
                f"OpenQASM 2 cannot hold free parameters, and the circuit has {len(names)} "
                f"({shown}); bind them with circuit.assign_parameters(...) or write OpenQASM 3 "
                "(version=3), which declares them as 'input float[64]'"
            )
        circuit, _ = _exportable(circuit)
        try:
            return qasm2.dumps(circuit)
        except Exception as exc:  # the exporter's own error, or a crash on an odd instruction
            raise ValueError(f"cannot write this circuit as OpenQASM 2: {_message(exc)}") from exc
    mapping = _export_names(circuit)
    exported = circuit.assign_parameters(mapping, inplace=False) if mapping else circuit
    exported, _ = _exportable(exported)
    try:
        text = qasm3.dumps(exported)
    except Exception as exc:  # the exporter's own error, or a crash on an odd instruction
        raise ValueError(f"cannot write this circuit as OpenQASM 3: {_message(exc)}") from exc
    text += _gphase_statement(exported.global_phase, text)
    note = _parameter_note(exported, mapping, text) if exported.parameters else {}
    if note:
        header, _, rest = text.partition("\n")
        comment = "// ketml:parameters " + json.dumps(note, separators=(",", ":"))
        text = f"{header}\n{comment}\n{rest}"
    return text


def dump(circuit: QuantumCircuit, path: PathLike, version: int = 3) -> None:
    """Write :func:`dumps` output to ``path``."""
    Path(path).write_text(dumps(circuit, version), encoding="utf-8")
