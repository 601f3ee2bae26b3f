"""On-policy corrections: the model's own answers to training prompts, labelled with what it
should have done (DAgger, Ross et al. 2011; the syntax and length signals of Vista's RL).

Teacher forcing shows the model reference prefixes only. Free decoding leaves them: the measured
failures of the from-scratch generator are answers that run past the circuit's end into positions
no reference reaches, and lines that index qubits the register lacks. :func:`rollout_rows` answers
training prompts greedily with a trained model and turns each answer into a training row: its
prompt and answer, with ``<eos>`` as the target where the answer completes the structure at which
its reference ends (:func:`stop_rule`: the reference's last line shape, as often as the reference
writes it; for QAOA the ``p``-th mixer layer; the stop it missed, the rest of the answer dropped),
``<eos>`` as a token to avoid (unlikelihood) where it stopped before that, the token that
completed a line a third time in a row as a token to avoid (greedy decoding's loops, the use
unlikelihood training was made for; no training circuit repeats a line more than twice), the
token that writes a number's fifth decimal likewise (a digit repeated without end, ``0.2222...``;
the records round angles to four decimals), and,
through the grammar
term (:mod:`..grammar_loss`, ``on_policy`` rows), the OpenQASM 3 grammar's allowed tokens at every
position it visits up to and including its first forbidden token. The stop is read from the
answer's own structure, not its line count: an answer that wrote other gates than its reference
still has a well-defined end. The ``llm-circuits`` task adds these rows to its reference rows (data
options ``init`` and ``rollouts``): one run is one round.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from .encoding import IGNORE

__all__ = [
    "DECIMALS",
    "REPEATS",
    "RolloutRows",
    "long_number_index",
    "repeat_index",
    "rollout_rows",
    "shape_of",
    "stop_index",
    "stop_rule",
]


@dataclass
class RolloutRows:
    """``ids`` and ``labels`` ``(N, block)`` of the rollout rows (``labels`` ``-100`` but for the
    ``<eos>`` of a corrected stop), the register size of each, where each answer starts, the
    tokens it should not have written, and what the answers did."""

    ids: torch.Tensor
    labels: torch.Tensor
    qubits: list[int]
    starts: list[int]
    #: ``(row, position, token)``: the logits at ``position`` chose ``token`` and should not have
    #: (``<eos>`` before the stop; the token that completed a line a third time in a row)
    avoid: list[tuple[int, int, int]] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)


_ANGLES = re.compile(r"\([^()]*\)")


def shape_of(line: str) -> str:
    """A line with its gate arguments blanked: ``rx(0.31) q[3];`` -> ``rx() q[3];``."""
    return _ANGLES.sub("()", line.strip())


def stop_rule(qasm: str) -> tuple[str, int]:
    """Where a reference circuit ends, told by its structure: its last line's shape and how often
    that shape occurs in it (a QAOA circuit of p layers ends with the p-th ``rx() q[n-1];``)."""
    shapes = [shape_of(x) for x in qasm.splitlines() if x.strip()]
    return shapes[-1], shapes.count(shapes[-1])


#: a line written this many times in a row is a loop: no training circuit repeats one more than twice
REPEATS = 3


def repeat_index(pieces: Sequence[str], answer: Sequence[int], repeats: int = REPEATS) -> int | None:
    """The index in ``answer`` of the token that completes a line identical to the ``repeats - 1``
    lines before it (greedy decoding caught in a loop), or None."""
    run, prev, line = 0, None, ""
    for i, tok in enumerate(answer):
        *done, line = (line + pieces[tok]).split("\n")
        for k, full in enumerate(done):
            run = run + 1 if full == prev else 1
            prev = full
            if run >= repeats and full.strip():
                return i if k == len(done) - 1 and line == "" else None
    return None


#: the records round every angle to this many decimals (:func:`.dataset.make_record`): a longer
#: fraction is greedy decoding caught repeating a digit (``rx(0.2222222...``)
DECIMALS = 4


def long_number_index(pieces: Sequence[str], answer: Sequence[int], decimals: int = DECIMALS) -> int | None:
    """The index in ``answer`` of the token that writes a number's ``decimals + 1``-th digit after
    its decimal point (no record writes one), or None."""
    frac = None  # digits after the point of the number being written, None outside a fraction
    prev = ""
    for i, tok in enumerate(answer):
        for ch in pieces[tok]:
            if ch.isdigit() and frac is not None:
                frac += 1
                if frac > decimals:
                    return i
            elif ch == "." and prev.isdigit():
                frac = 0
            elif not ch.isdigit():
                frac = None
            prev = ch
    return None


def stop_index(pieces: Sequence[str], answer: Sequence[int], last: str, times: int) -> int | None:
    """The index in ``answer`` of the token that ends the ``times``-th line of shape ``last``
    (the reference's stop, :func:`stop_rule`), or None when the answer never writes it that often
    or a newline falls inside a token there."""
    count, line = 0, ""
    for i, tok in enumerate(answer):
        *done, line = (line + pieces[tok]).split("\n")
        for k, full in enumerate(done):
            count += shape_of(full) == last
            if count == times:
                return i if k == len(done) - 1 and line == "" else None
    return None


def rollout_rows(gen, records: Sequence[dict], block: int, *, progress: bool = False) -> RolloutRows:
    """Greedy answers of ``gen`` (:func:`.generate.generate_ids`, unconstrained) to ``records``'
    prompts as training rows (see the module docstring). Counts: ``stopped`` (ended with
    ``<eos>`` right after its stop), ``overran`` (went on past it: cut there, ``<eos>``
    labelled), ``early`` (``<eos>`` before it: ``<eos>`` avoided there), ``looped`` (wrote a
    line a third time in a row before its stop: cut there, that token avoided), ``long_number``
    (wrote a number with more decimals than any record, before its stop: cut there, the token that
    wrote the extra digit avoided), ``short`` (ran
    into the context's end before its stop), and ``context`` (ran into the context's end, at
    any point)."""
    from .generate import generate_ids

    enc = gen.encoder
    eos, pad = enc.eos_id, enc.pad_id
    tok = enc.tok
    pieces = ["" if i in (eos, pad) else tok.decode([i]) for i in range(tok.vocab_size)]
    answers = generate_ids(gen, records, left_pad=True, batch_size=16, progress=progress)
    ids, labels, qubits, starts, avoid = [], [], [], [], []
    kinds = ("stopped", "overran", "early", "looped", "long_number", "short", "context")
    stats = {"rollouts": len(records), **dict.fromkeys(kinds, 0)}
    for r, ans in zip(records, answers, strict=True):
        prompt = enc.prompt_ids(r)
        last, times = stop_rule(r["qasm"])
        ended = bool(ans) and ans[-1] == eos
        stats["context"] += not ended
        stop = stop_index(pieces, ans, last, times)
        before = ans if stop is None else ans[: stop + 1]
        loop = repeat_index(pieces, before)
        digits = long_number_index(pieces, before)
        label_at = None
        if digits is not None and (loop is None or digits < loop):
            stats["long_number"] += 1
            avoid.append((len(ids), len(prompt) + digits - 1, ans[digits]))
            ans = ans[: digits + 1]
        elif loop is not None:
            stats["looped"] += 1
            avoid.append((len(ids), len(prompt) + loop - 1, ans[loop]))
            ans = ans[: loop + 1]
        elif stop is None and ended:
            stats["early"] += 1
            avoid.append((len(ids), len(prompt) + len(ans) - 2, eos))
        elif stop is None:
            stats["short"] += 1
        elif ended and len(ans) <= stop + 2:
            stats["stopped"] += 1
        else:
            stats["overran"] += 1
            ans = [*ans[: stop + 1], eos]
            label_at = len(prompt) + stop + 1
        row = (prompt + ans)[:block]
        lab = [IGNORE] * block
        if label_at is not None and label_at < block:
            lab[label_at] = eos
        ids.append(row + [pad] * (block - len(row)))
        labels.append(lab)
        qubits.append(int(r["n_qubits"]))
        starts.append(len(prompt))
    shape = (len(ids), block)
    return RolloutRows(
        torch.tensor(ids, dtype=torch.long).view(shape),
        torch.tensor(labels, dtype=torch.long).view(shape),
        qubits,
        starts,
        avoid,
        stats,
    )
