"""The OpenQASM 2 grammar of KetGPT's canonical corpus form, for grammar-constrained decoding.

The language is what :func:`qml.generators.qasm_text.canonical` writes for a register of N
qubits: the three header lines (``OPENQASM 2.0;``, ``include "qelib1.inc";``, ``qreg q[N];``),
optionally ``creg c[K];`` (1 <= K <= N) right after them and never again, then one statement a
line: a gate of :data:`~qml.generators.qasm_text.QASM2_GATES` with its parameter count and arity,
``name(a,b) q[i],q[j];``, distinct qubit indices below N, angles ``k*pi/m`` or decimals of at most
three integer and four decimal digits; or, once a ``creg`` is declared, ``measure q[i] -> c[j];``
with j < K. The text may end after any complete line once a gate is written, so an end is always
reachable. :func:`ketgpt_processor` builds the logits processor for a batch of prompts.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import regex

from circuits.errors import ConfigurationError

from ..grammar import GrammarLogitsProcessor, LineGrammar, TokenTrie, distinct_operands, number_alternation
from ..qasm_text import MAX_QUBITS, QASM2_GATES, header

__all__ = ["ANGLE", "Qasm2Grammar", "ketgpt_processor", "qasm2_grammar"]

#: the angles the grammar allows (every form :func:`~qml.generators.qasm_text.format_angle` writes)
ANGLE = r"-?(?:(?:[1-9][0-9]?\*)?pi(?:/[1-9][0-9]{0,3})?|(?:0|[1-9][0-9]{0,2})(?:\.[0-9]{1,4})?)"
_CREG = regex.compile(r"creg c\[(\d+)\];")
_DONE_ANGLE = regex.compile(r"(?<=[(,])[^,()]+(?=[,)])")


class Qasm2Grammar(LineGrammar):
    """Canonical OpenQASM 2 circuits on ``n_qubits`` qubits. Contexts are ``(line, K, gates)``:
    the header line reached (3 = just after ``qreg``, 4 = the body), the ``creg`` size (0 = none)
    and whether a gate was written."""

    def __init__(self, n_qubits: int, gates: Sequence[str] | None = None) -> None:
        if not 1 <= n_qubits <= MAX_QUBITS:
            raise ConfigurationError(f"n_qubits must be 1..{MAX_QUBITS}; got {n_qubits}")
        names = sorted(gates or QASM2_GATES)
        unknown = [g for g in names if g not in QASM2_GATES]
        if unknown:
            raise ConfigurationError(f"unknown gates {unknown}; known: {', '.join(sorted(QASM2_GATES))}")
        self.n_qubits = n_qubits
        idx = number_alternation(n_qubits)
        alts = []
        for g in names:
            nq, npar = QASM2_GATES[g]
            if nq > n_qubits:
                continue
            par = r"\(" + ",".join([ANGLE] * npar) + r"\)" if npar else ""
            alts.append(regex.escape(g) + par + " " + ",".join([rf"q\[{idx}\]"] * nq) + ";")
        self.gate_pattern = "(?:" + "|".join(alts) + ")"
        self.header = header(n_qubits).rstrip("\n").split("\n")
        self._fixed = [regex.compile(regex.escape(h)) for h in self.header]
        self._gate = regex.compile(self.gate_pattern)
        creg = rf"creg c\[(?:{'|'.join(str(k) for k in range(1, n_qubits + 1))})\];"
        self._after_qreg = regex.compile(f"(?:{creg}|{self.gate_pattern})")
        self._body: dict[int, regex.Pattern] = {0: self._gate}

    def _body_pattern(self, clbits: int):
        if clbits not in self._body:
            measure = (
                rf"measure q\[{number_alternation(self.n_qubits)}\] -> c\[{number_alternation(clbits)}\];"
            )
            self._body[clbits] = regex.compile(f"(?:{self.gate_pattern}|{measure})")
        return self._body[clbits]

    def start(self):
        return (0, 0, False)

    def line_ok(self, context, line: str, complete: bool) -> bool:
        pos, clbits, _ = context
        if pos < 3:
            pattern = self._fixed[pos]
        elif pos == 3:
            pattern = self._after_qreg
        else:
            pattern = self._body_pattern(clbits)
        if pattern.fullmatch(line, partial=not complete) is None:
            return False
        return line.startswith("measure") or distinct_operands(line, self.n_qubits)

    def advance(self, context, line: str):
        pos, clbits, gates = context
        if pos < 3:
            return (pos + 1, 0, False)
        m = _CREG.fullmatch(line)
        if m is not None:
            return (4, int(m.group(1)), gates)
        return (4, clbits, gates or not line.startswith("measure"))

    def can_end(self, context) -> bool:
        return context[0] >= 3 and context[2]

    def representative(self, state):
        """Complete angles of the unfinished line become ``0``: what may follow does not depend
        on their values."""
        context, tail = state
        return (context, _DONE_ANGLE.sub("0", tail)) if "(" in tail else state


@functools.lru_cache(maxsize=256)
def qasm2_grammar(n_qubits: int) -> Qasm2Grammar:
    """The (cached) grammar of ``n_qubits`` qubits."""
    return Qasm2Grammar(n_qubits)


def ketgpt_processor(
    tokenizer,
    sizes: Sequence[int],
    prompt_length: int,
    *,
    prompt_has_header: bool = True,
    trie: TokenTrie | None = None,
) -> GrammarLogitsProcessor:
    """The logits processor for rows prompted with ``header(sizes[row])`` (``prompt_length``
    tokens, left-padded), or with nothing of the program when ``prompt_has_header`` is false.
    ``tokenizer`` is a :class:`~qml.generators.tokenizer.QasmTokenizer`; pass ``trie`` to reuse
    one across batches."""
    skip = (tokenizer.eos_id, tokenizer.pad_id)
    trie = trie or TokenTrie.from_tokenizer(tokenizer, skip=skip)
    grammars = [qasm2_grammar(n) for n in sizes]
    states = [
        g.feed(None, header(n)) if prompt_has_header else None for g, n in zip(grammars, sizes, strict=True)
    ]
    return GrammarLogitsProcessor(grammars, trie, trie.pieces, prompt_length, tokenizer.eos_id, states)
