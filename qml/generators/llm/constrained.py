"""Grammar-constrained decoding: only tokens that keep the output a valid OpenQASM 3 prefix.

The language is the dataset's own (``qiskit.qasm3.dumps`` style): the three header lines
(``OPENQASM 3.0;``, ``include "stdgates.inc";``, ``qubit[N] q;``) and then one gate per line,
``name(angle, ...) q[i], q[j];``, with the standard-library gate names, each gate's arity and
parameter count, qubit indices in ``0..N-1`` and distinct within a gate, and numeric angles of at
most three integer and eight decimal digits (so every line is bounded). The check works on
decoded text, so any tokenizer with ``decode(ids)`` fits; ``<eos>`` is allowed only after a
complete line once at least one gate is written. :func:`QasmGrammar.truncate` cuts a generation
stopped by a length limit back to its last complete line, so every output parses. The prefix
automaton and token trie are the shared ones of :mod:`qml.generators.grammar` (the OpenQASM 2
grammar of KetGPT uses them too).
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

from circuits.errors import ConfigurationError

from ..grammar import GrammarLogitsProcessor, LineGrammar, State, TokenTrie, distinct_operands
from .hamiltonians import QUBIT_LIMIT

__all__ = ["GATES", "QasmGrammar", "QasmLogitsProcessor"]

#: stdgates.inc gates: name -> (qubits, parameters)
GATES: dict[str, tuple[int, int]] = {
    **{g: (1, 0) for g in ("h", "x", "y", "z", "s", "sdg", "t", "tdg", "sx", "id")},
    **{g: (1, 1) for g in ("rx", "ry", "rz", "p")},
    "u3": (1, 3),
    **{g: (2, 0) for g in ("cx", "cy", "cz", "ch", "swap")},
    **{g: (2, 1) for g in ("crx", "cry", "crz", "cp")},
    **{g: (3, 0) for g in ("ccx", "cswap")},
}
_ANGLE = r"-?(?:0|[1-9][0-9]{0,2})(?:\.[0-9]{1,8})?"


class QasmGrammar(LineGrammar):
    """The regular language of the dataset's circuits on ``n_qubits`` qubits, checked line by line.
    Its context is the number of complete lines, capped at one past the header (a gate written)."""

    def __init__(self, n_qubits: int, gates: Sequence[str] | None = None) -> None:
        if not 1 <= n_qubits <= 4 * QUBIT_LIMIT:
            raise ConfigurationError(f"n_qubits must be 1..{4 * QUBIT_LIMIT}, got {n_qubits}")
        names = sorted(gates or GATES)
        unknown = [g for g in names if g not in GATES]
        if unknown:
            raise ConfigurationError(f"unknown gates {unknown}; known: {', '.join(sorted(GATES))}")
        self.n_qubits = n_qubits
        idx = "(?:" + "|".join(str(i) for i in range(n_qubits)) + ")"
        alts = []
        for g in names:
            nq, npar = GATES[g]
            if nq > n_qubits:
                continue
            par = r"\(" + ", ".join([_ANGLE] * npar) + r"\)" if npar else ""
            alts.append(regex.escape(g) + par + " " + ", ".join([rf"q\[{idx}\]"] * nq) + ";")
        self.header = ["OPENQASM 3.0;", 'include "stdgates.inc";', f"qubit[{n_qubits}] q;"]
        self._fixed = [regex.compile(regex.escape(h)) for h in self.header]
        self._gate = regex.compile("(?:" + "|".join(alts) + ")")

    def start(self) -> int:
        return 0

    def line_ok(self, context: int, line: str, complete: bool) -> bool:
        pattern = self._fixed[context] if context < len(self._fixed) else self._gate
        if pattern.fullmatch(line, partial=not complete) is None:
            return False
        return distinct_operands(line, self.n_qubits)

    def advance(self, context: int, line: str) -> int:
        return min(context + 1, len(self.header) + 1)

    def can_end(self, context: int) -> bool:
        return context > len(self.header)

    def at_line(self, first_line: int) -> State:
        """The state at the start of line ``first_line`` of the program."""
        return (min(first_line, len(self.header) + 1), "")

    def allows(self, text: str, state: State | None = None, *, first_line: int = 0) -> bool:
        """Whether ``text`` (starting at line ``first_line`` of the program) can still become a circuit."""
        return super().allows(text, state if state is not None else self.at_line(first_line))


class QasmLogitsProcessor(GrammarLogitsProcessor):
    """A ``transformers`` logits processor that masks every token breaking the grammar.

    ``tokenizer`` needs ``decode(ids) -> str``; ``prompt_length`` is the number of prompt tokens
    (the text after them is checked, from the program's first line unless ``first_line`` says the
    prompt already wrote some). Rows with no allowed token get ``<eos>`` alone.
    """

    def __init__(
        self,
        tokenizer,
        n_qubits: int,
        prompt_length: int,
        eos_token_id: int,
        *,
        first_line: int = 0,
        vocab_size: int | None = None,
    ) -> None:
        grammar = QasmGrammar(n_qubits)
        size = vocab_size or getattr(tokenizer, "vocab_size", None) or len(tokenizer)
        pieces = [tokenizer.decode([i]) if i != eos_token_id else "" for i in range(size)]
        super().__init__(
            grammar, TokenTrie(pieces), pieces, prompt_length, eos_token_id, state=grammar.at_line(first_line)
        )
        self.grammar, self.tokenizer, self.first_line = grammar, tokenizer, first_line
