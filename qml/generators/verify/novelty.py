"""Novelty: how many given circuits copy a training circuit, exactly or nearly, so that
memorisation cannot pass as generation (a check the KetGPT paper leaves out).

Exact: the same text once comments and whitespace are folded (the exported text or its canonical
form, which KetGPT learns). Near: a training circuit on the
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

    def __init__(
        self,
        texts: list[str],
        sequences: list[list],
        qubits: list[int],
        max_gates: int = 300,
        other_forms: list[str] = (),
    ):
        self.exact = {normalise(t) for t in texts} | {normalise(t) for t in other_forms}
        self.max_gates = max_gates
        self.by_width: dict[int, list[list]] = defaultdict(list)
        for seq, n in zip(sequences, qubits, strict=True):
            self.by_width[n].append([f"{g}{q}" for g, q in seq[:max_gates]])

    def state(self) -> dict:
        """Plain data to save (:meth:`from_state` rebuilds the index)."""
        return {"exact": sorted(self.exact), "by_width": dict(self.by_width), "max_gates": self.max_gates}

    @classmethod
    def from_state(cls, state: dict) -> NoveltyIndex:
        index = cls([], [], [], state["max_gates"])
        index.exact = set(state["exact"])
        index.by_width.update({int(k): v for k, v in state["by_width"].items()})
        return index

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
