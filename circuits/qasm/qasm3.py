"""Reading OpenQASM 3 through the reference importer ``qiskit_qasm3_import`` (falling back to
Qiskit's experimental native importer when it is missing); failures become positioned
:class:`~circuits.errors.QasmError`s."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

from qiskit import QuantumCircuit, qasm3

from ..errors import QasmError
from .names import restore_parameters
from .source import Source, arity_message, bare_message, error_message, first_failing, same_error

_STDGATES = {g.name: (g.num_params, g.num_qubits) for g in qasm3.STDGATES_INC_GATES}
_BUILTIN3 = {"U": (3, 1)}
_POS3 = re.compile(r"(?P<line>\d+),(?P<col>\d+): (?P<msg>.*)\Z", re.S)


def reference_importer() -> Any | None:
    """The reference importer module ``qiskit_qasm3_import``, or None when not installed."""
    try:
        import qiskit_qasm3_import
    except ImportError:
        return None
    return qiskit_qasm3_import


def read(src: Source, note: str) -> QuantumCircuit:
    """Parse OpenQASM 3 ``src`` and restore parameter names; ``note`` is appended to any error."""
    importer = reference_importer()
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
    return restore_parameters(src.text, circuit)


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


def _parse3(src: Source, note: str) -> Any:
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
        raise QasmError(f"{bare_message(err)}{_paren(note)}", err.line, err.column)
    try:
        return p.QASMNodeVisitor().visitProgram(tree)
    except Exception as exc:  # the AST builder rejects some parsed constructs
        ctx = getattr(exc, "__cause__", None)
        raise QasmError(
            f"{error_message(exc) or type(exc).__name__}{_paren(note)}", *_syntax_position(ctx or exc)
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


def _syntax_error(src: Source, line: int, col: int, msg: str, tok: Any) -> QasmError:
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


def _convert3_error(src: Source, program: Any, importer: Any, exc: Exception, note: str):
    msg = error_message(exc)
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
    same = same_error(exc)

    def fails(k: int) -> bool:
        sub = ast.Program(statements=stmts[:k], version=program.version)
        return same(lambda: importer.convert(sub))

    k = first_failing(len(stmts), fails)
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
    return arity_message(name, known[name], (len(stmt.arguments), len(stmt.qubits)))


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


def _load3_experimental(src: Source, note: str) -> QuantumCircuit:
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
    key = error_message(exc)
    short = _shorten(key)

    def fails(k: int) -> bool:
        prefix = src.text[: spans[k - 1][1]]
        _, other, _ = _run_capturing_output(lambda: _native_loads(prefix))
        return other is not None and error_message(other) == key

    k = first_failing(len(spans), fails)
    if k is None:
        raise QasmError(f"{short} ({note})") from exc
    start, end = spans[k - 1]
    message = f"error in `{src.snippet(start, end)}`: {short} ({note})"
    raise QasmError(message, *src.position(start)) from exc
