"""Grammar-constrained decoding: only tokens that keep the output a valid OpenQASM 3 prefix.

The language is the dataset's own (``qiskit.qasm3.dumps`` style): the three header lines
(``OPENQASM 3.0;``, ``include "stdgates.inc";``, ``qubit[N] q;``) and then one gate per line,
``name(angle, ...) q[i], q[j];``, with the standard-library gate names, each gate's arity and
parameter count, qubit indices in ``0..N-1`` and distinct within a gate, and numeric angles of at
most three integer and eight decimal digits (so every line is bounded). The check works on
decoded text, so any tokenizer with ``decode(ids)`` fits; ``<eos>`` is allowed only after a
complete line once at least one gate is written. :func:`QasmGrammar.truncate` cuts a generation
stopped by a length limit back to its last complete line, so every output parses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import regex
import torch

from circuits.errors import ConfigurationError

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
_INDEX = regex.compile(r"q\[(\d+)\]")


class QasmGrammar:
    """The regular language of the dataset's circuits on ``n_qubits`` qubits, checked line by line."""

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

    def _line_ok(self, number: int, line: str, complete: bool) -> bool:
        pattern = self._fixed[number] if number < len(self._fixed) else self._gate
        if pattern.fullmatch(line, partial=not complete) is None:
            return False
        qubits = _INDEX.findall(line)
        return len(set(qubits)) == len(qubits)

    def allows(self, text: str, *, first_line: int = 0) -> bool:
        """Whether ``text`` (starting at line ``first_line`` of the program) can still become a circuit."""
        lines = text.split("\n")
        for k, line in enumerate(lines):
            if not self._line_ok(first_line + k, line, complete=k < len(lines) - 1):
                return False
        return True

    def complete(self, text: str) -> bool:
        """Whether ``text`` is a whole circuit: every line complete, at least one gate."""
        return text.endswith("\n") and text.count("\n") > len(self.header) and self.allows(text)

    def truncate(self, text: str) -> str:
        """``text`` cut back to its last complete line (a generation stopped mid-line)."""
        return text[: text.rfind("\n") + 1]


class QasmLogitsProcessor:
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
        self.grammar = QasmGrammar(n_qubits)
        self.tokenizer, self.prompt_length, self.eos, self.first_line = (
            tokenizer,
            prompt_length,
            eos_token_id,
            first_line,
        )
        size = vocab_size or getattr(tokenizer, "vocab_size", None) or len(tokenizer)
        self.pieces = [tokenizer.decode([i]) if i != eos_token_id else "" for i in range(size)]

    def _row_mask(self, text: str, size: int) -> torch.Tensor:
        lines = text.split("\n")
        done, tail = len(lines) - 1, lines[-1]
        allowed = torch.zeros(size, dtype=torch.bool)
        for i, piece in enumerate(self.pieces[:size]):
            if piece and self.grammar.allows(tail + piece, first_line=self.first_line + done):
                allowed[i] = True
        finished = text.endswith("\n") and self.first_line + done > len(self.grammar.header)
        if (finished or not allowed.any()) and self.eos < size:
            allowed[self.eos] = True
        return allowed

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        masks = []
        for row in input_ids:
            text = self.tokenizer.decode(row[self.prompt_length :].tolist())
            masks.append(self._row_mask(text, scores.shape[-1]))
        return scores.masked_fill(~torch.stack(masks).to(scores.device), -math.inf)
