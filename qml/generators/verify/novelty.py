"""Novelty: how many given circuits copy a training circuit, exactly or nearly, so that
memorisation cannot pass as generation (a check the KetGPT paper leaves out).

Exact: the same text once comments and whitespace are folded. Near: a training circuit on the
same number of qubits whose gate sequence (name and qubits per gate, the first ``max_gates``) is at
least ``threshold`` similar (``difflib`` ratio, 1 - a normalised edit distance).
"""

from __future__ import annotations

import difflib
from collections import defaultdict

from ..qasm_text import normalise

__all__ = ["NoveltyIndex"]


class NoveltyIndex:
    """The training circuits, indexed for exact and near-copy look-ups."""

    def __init__(self, texts: list[str], sequences: list[list], qubits: list[int], max_gates: int = 300):
        self.exact = {normalise(t) for t in texts}
        self.max_gates = max_gates
        self.by_width: dict[int, list[list]] = defaultdict(list)
        for seq, n in zip(sequences, qubits, strict=True):
            self.by_width[n].append([f"{g}{q}" for g, q in seq[:max_gates]])

    def check(self, text: str, sequence: list, num_qubits: int, threshold: float = 0.9) -> dict:
        """``{"exact": bool, "near": bool, "similarity": best ratio}`` for one circuit."""
        if normalise(text) in self.exact:
            return {"exact": True, "near": True, "similarity": 1.0}
        mine = [f"{g}{q}" for g, q in sequence[: self.max_gates]]
        best = 0.0
        for other in self.by_width.get(num_qubits, []):
            matcher = difflib.SequenceMatcher(None, mine, other, autojunk=False)
            if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
                continue
            best = max(best, matcher.ratio())
        return {"exact": False, "near": best >= threshold, "similarity": best}
