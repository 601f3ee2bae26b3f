"""Digit-run rows: reference answers with some angles rewritten to end in a run of one digit
(``0.2322`` -> ``0.2777``), trained to close the number after its fourth decimal.

Measured on the GPU model's invalid free answers (300 held-out prompts): five of six are greedy
decoding repeating a digit inside an angle (``rz(-1.2222222...``) to the context's end. Its
probabilities there show why: it does not count decimals (after ``-1.2`` and after ``-1.2222``
the next-token distribution is the same), and the byte-level BPE splits the end of a number
over many tokens (``2) q[4];\\n``, ``) q[``, ...) while continuing it is one token (``2``), so
the copy of the previous digit wins. The records never write a fifth decimal
(:data:`.on_policy.DECIMALS`), but runs of three or four equal digits are rare in them, so
teacher forcing seldom shows the end after one. These rows do: the rewritten digits carry no
loss (no angle is taught), the tokens that end the number and everything after it keep theirs,
and where a token boundary falls right after the fourth decimal the token that would write a
fifth (the run's digit) is avoided (unlikelihood, as :mod:`.on_policy`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from .encoding import IGNORE, Encoder
from .on_policy import DECIMALS

__all__ = ["RunRows", "digit_run_rows", "rewrite_runs"]

#: an angle: after ``(`` or ``,`` (not the version ``3.0``), its integer part and decimals
_ANGLE = re.compile(r"(?<=[(,])\s*-?\d+\.(\d+)")


def rewrite_runs(qasm: str, rng: random.Random, per_answer: int = 2) -> tuple[str, list[tuple[int, int]]]:
    """``qasm`` with up to ``per_answer`` angles given exactly :data:`DECIMALS` decimals whose
    last 2 to 4 are one digit (1-9: the records drop trailing zeros), and the character spans
    ``[start, end)`` of the rewritten decimals in the new text."""
    found = list(_ANGLE.finditer(qasm))
    picks = sorted(rng.sample(found, min(per_answer, len(found))), key=lambda m: m.start(1))
    out, spans, at, shift = [], [], 0, 0
    for m in picks:
        run = rng.choice((2, 3, 4))
        digit = str(rng.randint(1, 9))
        head = "".join(str(rng.randint(0, 9)) for _ in range(DECIMALS - run))
        decimals = head + digit * run
        start = m.start(1) + shift
        out.append(qasm[at : m.start(1)] + decimals)
        spans.append((start, start + len(decimals)))
        shift += len(decimals) - (m.end(1) - m.start(1))
        at = m.end(1)
    out.append(qasm[at:])
    return "".join(out), spans


@dataclass
class RunRows:
    """``ids`` and ``labels`` ``(N, block)`` of the digit-run rows, the register size and answer
    start of each, the tokens to avoid ``(row, position, token)``, counts, and each row's
    rewritten answer with the spans of its rewritten decimals."""

    ids: torch.Tensor
    labels: torch.Tensor
    qubits: list[int]
    starts: list[int]
    avoid: list[tuple[int, int, int]] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    texts: list[tuple[str, list[tuple[int, int]]]] = field(default_factory=list)


def digit_run_rows(
    records: Sequence[dict], encoder: Encoder, block: int, seed: int = 0, per_answer: int = 2
) -> RunRows:
    """One row per record whose rewritten answer fits ``block`` (see the module docstring):
    labels ``-100`` on the prompt, on tokens that only write rewritten digits (or the text before
    them and the first), and on padding."""
    rng = random.Random(seed)
    tok = encoder.tok
    digit_id = {str(d): tok.encode(str(d)) for d in range(10)}
    ids, labels, qubits, starts, avoid, texts = [], [], [], [], [], []
    stats = {"rows": 0, "angles": 0, "avoided": 0, "too_long": 0}
    for r in records:
        text, spans = rewrite_runs(r["qasm"], rng, per_answer)
        prompt = encoder.prompt_ids(r)
        answer = encoder.ids(text)
        if len(prompt) + len(answer) + 1 > block or not spans:
            stats["too_long"] += len(prompt) + len(answer) + 1 > block
            continue
        lab = list(answer) + [encoder.eos_id]
        ends, pos = [], 0
        for t in answer:  # each token's character span
            piece = tok.decode([t])
            ends.append((pos, pos + len(piece)))
            pos += len(piece)
        if pos != len(text):  # a token that does not decode alone (never for byte-level BPE on ASCII)
            continue
        row = len(ids)
        for a, b in spans:
            for j, (s, e) in enumerate(ends):
                if s < b and e > a and e <= b:  # writes rewritten digits and nothing after them
                    lab[j] = IGNORE
                if e == b and j + 1 < len(answer) and len(digit_id[text[b - 1]]) == 1:
                    avoid.append((row, len(prompt) + j, digit_id[text[b - 1]][0]))
                    stats["avoided"] += 1
            stats["angles"] += 1
        full = prompt + answer + [encoder.eos_id]
        ids.append(full + [encoder.pad_id] * (block - len(full)))
        labels.append([IGNORE] * len(prompt) + lab + [IGNORE] * (block - len(full)))
        qubits.append(int(r["n_qubits"]))
        starts.append(len(prompt))
        texts.append((text, spans))
        stats["rows"] += 1
    shape = (len(ids), block)
    return RunRows(
        torch.tensor(ids, dtype=torch.long).view(shape),
        torch.tensor(labels, dtype=torch.long).view(shape),
        qubits,
        starts,
        avoid,
        stats,
        texts,
    )
