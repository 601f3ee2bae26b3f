"""On-policy corrections: the model's own answers become rows with the stop it missed and the
grammar's masks up to its first forbidden token; a run started from another run's weights."""

from __future__ import annotations

import json

import pytest
import torch

from circuits.errors import ConfigurationError
from qml.generators.grammar_loss import legal_masks
from qml.generators.llm.constrained import QasmGrammar
from qml.generators.llm.dataset import read_records
from qml.generators.llm.on_policy import (
    IGNORE,
    long_number_index,
    repeat_index,
    rollout_rows,
    stop_index,
    stop_rule,
)

from .helpers import train_tiny


@pytest.fixture(scope="module")
def writer(records_dir, tmp_path_factory):
    """A tiny model trained until it writes whole lines, but misses some stops (measured: 5 of 24
    training prompts stopped at their reference's end, 11 ran past it, 8 stopped early)."""
    run_dir, _ = train_tiny(records_dir, tmp_path_factory.mktemp("writer"), epochs=20, lr=3e-3, seed=3)
    return run_dir


def test_the_stop_is_the_reference_s_last_line_shape_as_often_as_it_occurs():
    qaoa = "h q[0];\nh q[1];\nrx(0.1) q[0];\nrx(0.1) q[1];\nrz(2) q[1];\nrx(-0.3) q[0];\nrx(-0.3) q[1];\n"
    assert stop_rule(qaoa) == ("rx() q[1];", 2)  # the second mixer layer's last line
    pieces = ["h q[0];\n", "rx(0.5)", " q[1];\n", "rx(7) q[1];\nh", " q[0];\n", "\n"]
    assert stop_index(pieces, [0, 1, 2, 0, 1, 2, 0], "rx() q[1];", 2) == 5  # other angles, same shape
    assert stop_index(pieces, [1, 2, 0, 0], "rx() q[1];", 2) is None  # written once only
    assert stop_index(pieces, [1, 2, 3, 4], "rx() q[1];", 2) is None  # the newline falls inside a token
    assert stop_index(pieces, [1, 2, 5, 0, 3, 5], "rx() q[1];", 2) is None


def test_repeat_index_finds_the_third_identical_line_in_a_row():
    pieces = ["cx q[0], q[1];\n", "h q[0];\n", "cx", " q[0], q[1];\n", "\n"]
    assert repeat_index(pieces, [0, 0, 1, 0, 0]) is None  # twice in a row occurs in real circuits
    assert repeat_index(pieces, [1, 0, 0, 2, 3, 1]) == 4  # the third, written in two tokens
    assert repeat_index(pieces, [4, 4, 4, 4]) is None  # blank lines are not a loop


def test_long_number_index_finds_the_fifth_decimal():
    pieces = ["rx(0.", "2222", "2", ") q[0];\n", "rz(-1.5", "3.25", "q[12]", "2)"]
    assert long_number_index(pieces, [0, 1, 3]) is None  # four decimals, as the records round them
    assert long_number_index(pieces, [0, 1, 2, 2, 3]) == 2  # the fifth, in the next token
    assert long_number_index(pieces, [4, 3, 5, 3, 6]) is None  # short numbers; an index is no fraction
    assert long_number_index(pieces, [0, 1, 3, 5, 3]) is None  # each number short
    assert long_number_index(pieces, [5, 1]) == 1  # "3.25" then "2222": one number, six decimals
    assert long_number_index(pieces, [5, 7]) is None  # "3.252)": three decimals
    assert long_number_index(["0.1234", "56"], [0, 1]) == 1
    assert long_number_index(["0.1234", "56"], [0, 1], decimals=6) is None


def test_an_on_policy_row_keeps_its_masks_up_to_the_first_forbidden_token():
    pieces = [
        "<eos>",
        "OPENQASM 3.0;\n",
        'include "stdgates.inc";\n',
        "qubit[2] q;\n",
        "h q[0];\n",
        "h q[2];\n",
    ]
    grammar = QasmGrammar(2)
    row = [0, 1, 2, 3, 4, 5, 4, 0]  # <eos> as the "prompt", then h q[2] past a 2-qubit register
    kept = legal_masks([(row, 1, grammar, None)], pieces, 0, len(row), on_policy=[True])
    refused = legal_masks([(row, 1, grammar, None)], pieces, 0, len(row))
    assert refused.refused == 1 and (refused.index < 0).all()  # a reference row would be dropped
    assert kept.refused == 0 and kept.strayed == 1
    masked = (kept.index[0] >= 0).nonzero()[:, 0].tolist()
    assert masked == [0, 1, 2, 3, 4]  # through the logits that chose "h q[2];\n", not past it
    assert not kept.table[kept.index[0, 4], 5] and kept.table[kept.index[0, 4], 4]


def test_rollout_rows_label_each_kind_of_answer(writer, records_dir, monkeypatch):
    """Answers made by hand from a reference (so every kind occurs): one that stops right, one
    that runs two lines past its stop, one that stops a mixer layer early, one cut by the context."""
    import qml.generators.llm.generate as generate
    from qml.generators.llm.generate import load_llm

    gen = load_llm(writer)
    enc, eos = gen.encoder, gen.encoder.eos_id
    r = next(r for r in read_records(records_dir / "records.jsonl") if r["layers"] == 1)
    lines = r["qasm"].splitlines(keepends=True)
    n = r["n_qubits"]
    ref = enc.ids(r["qasm"])
    early = enc.ids("".join(lines[:-n]))  # without the mixer layer
    extra = enc.ids("".join(lines[:-1]) + "h q[0];\nh q[0];\n" + lines[-1])  # the stop line moved on
    past = [*ref, *enc.ids("h q[0];\nh q[1];\n")]
    head = enc.ids("".join(lines[:5]))
    loop = [*head, *enc.ids("cx q[0], q[1];\n" * 5)]
    looped_at = len(head) + len(enc.ids("cx q[0], q[1];\n" * 3)) - 1  # the third in a row
    digits = [*head, *enc.ids("rx(0.1234"), *enc.ids("5" * 40)]  # a digit written without end
    answers = [[*ref, eos], [*past, eos], [*early, eos], ref[:-3], [*extra, eos], [*loop, eos], digits]
    monkeypatch.setattr(generate, "generate_ids", lambda *a, **k: answers)
    rows = rollout_rows(gen, [r] * 7, 400)
    s = rows.stats
    kinds = ("stopped", "overran", "early", "looped", "long_number", "short", "context")
    got = tuple(s[k] for k in kinds)
    assert got == (2, 1, 1, 1, 1, 1, 2)
    start = len(enc.prompt_ids(r))
    assert rows.starts == [start] * 7
    labelled = (rows.labels != IGNORE).nonzero().tolist()
    assert labelled == [[1, start + len(ref)]]  # only the overrun gets a target: <eos> after its stop
    assert rows.labels[1, start + len(ref)] == eos
    assert rows.ids[1, start : start + len(ref)].tolist() == ref  # the rest of it dropped
    assert (rows.ids[1, start + len(ref) + 1 :] == enc.pad_id).all()
    # avoided: <eos> where it came too soon, and the token that wrote a line the third time in a row
    (row6,) = [(n, p, t) for n, p, t in rows.avoid if n == 6]
    assert rows.avoid[:2] == [(2, start + len(early) - 1, eos), (5, start + looped_at - 1, loop[looped_at])]
    cut = row6[1] - start + 1  # the index in the answer of the token that wrote the fifth decimal
    written = enc.tok.decode(digits[: cut + 1])
    assert written.split("rx(0.")[-1].startswith("12345") and row6[2] == digits[cut]
    assert "rx(0.12345" not in enc.tok.decode(digits[:cut])  # not before it
    assert (rows.ids[6, start + cut + 1 :] == enc.pad_id).all()  # the rest dropped
    assert rows.ids[2, start + len(early)] == eos
    assert rows.ids[5, start : start + looped_at + 1].tolist() == loop[: looped_at + 1]
    assert (rows.ids[5, start + looped_at + 1 :] == enc.pad_id).all()  # the loop's rest dropped
    assert rows.ids[3, start : start + len(ref) - 3].tolist() == ref[:-3]  # kept as written, masks only


def test_rollouts_of_a_trained_model_are_its_greedy_answers(writer, records_dir):
    from qml.generators.llm.generate import generate_ids, load_llm

    gen = load_llm(writer)
    recs = read_records(records_dir / "records.jsonl")
    rows = rollout_rows(gen, recs, 256)
    s = rows.stats
    kinds = s["stopped"] + s["overran"] + s["early"] + s["looped"] + s["long_number"] + s["short"]
    assert s["rollouts"] == len(recs) == kinds
    # this tiny model writes angles past the records' four decimals (rz(-0.355321...): cut there
    assert s["stopped"] + s["overran"] + s["early"] + s["long_number"] > 0
    answers = generate_ids(gen, recs, left_pad=True, batch_size=16)
    for k, ans in enumerate(answers):
        start = rows.starts[k]
        cut = (rows.labels[k] != IGNORE).nonzero()[:, 0].tolist()
        looped = [t for n, t, tok in rows.avoid if n == k and tok != gen.encoder.eos_id]  # or digits
        end = cut[0] if cut else looped[0] + 2 if looped else start + len(ans)
        assert rows.ids[k, start:end].tolist() == ans[: end - start]


def test_unlikelihood_counts_an_avoided_token_as_one_target():
    from qml.generators.grammar_loss import next_token_loss

    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5, requires_grad=True)
    targets = torch.tensor([[1, -100, 2], [-100, -100, 4]])
    avoid = torch.tensor([[-100, 3, -100], [0, -100, -100]])
    log_p = logits.log_softmax(-1)
    direct = (
        -log_p[0, 0, 1]
        - log_p[0, 2, 2]
        - log_p[1, 2, 4]
        - torch.log1p(-log_p[0, 1, 3].exp())
        - torch.log1p(-log_p[1, 0, 0].exp())
    ) / 5
    assert torch.allclose(next_token_loss(logits, targets, avoid=avoid), direct)
    next_token_loss(logits, torch.full_like(targets, -100), avoid=avoid).backward()
    # the avoided token's logit is pushed down, the others up, and untouched positions get nothing
    assert logits.grad[0, 1, 3] > 0 and logits.grad[1, 0, 0] > 0 and logits.grad[0, 1, 0] < 0
    assert (logits.grad[0, 0] == 0).all() and (logits.grad[1, 2] == 0).all()


def _round(records_dir, out, epochs=1, **data):
    """A tiny llm-circuits run on the test records with data options ``data`` (a round with init)."""
    return train_tiny(records_dir, out, data, epochs=epochs, lr=3e-3)


def test_on_policy_options_are_checked(records_dir, tiny_run, tmp_path):
    def run(**data):
        return _round(records_dir, tmp_path, vocab_size=600, **data)

    with pytest.raises(ConfigurationError, match="init=RUN"):
        run(rollouts=4)
    with pytest.raises(ConfigurationError, match="block=256"):
        run(init=str(tiny_run), block=300)
    with pytest.raises(ConfigurationError, match="no run.json"):
        run(init=str(records_dir))


def test_a_round_starts_from_the_init_weights_and_learns_its_corrections(records_dir, writer, tmp_path):
    from qml.generators.llm.generate import load_llm

    run_dir, _ = _round(
        records_dir, tmp_path, epochs=30, grammar_weight=1.0, init=str(writer), rollouts=16, replay=8
    )
    saved = json.loads((run_dir / "run.json").read_text())
    stats = saved["on_policy"]["rollouts"]
    assert stats["rollouts"] == 16 and saved["on_policy"]["replay"] == 8
    before, after = load_llm(writer), load_llm(run_dir)
    # the tokenizer is the init run's, so the two models read the same ids
    assert (run_dir / "tokenizer.json").read_text() == (writer / "tokenizer.json").read_text()
    picked = set(saved["on_policy"]["keys"])
    assert len(picked) == 16
    recs = [r for r in read_records(records_dir / "records.jsonl") if r["key"] in picked]
    rows = rollout_rows(before, recs, 256)  # the answers the round trained on
    at = (rows.labels != IGNORE).nonzero()
    # avoided: <eos> where an answer stopped too soon, a line's third repeat, a number's fifth decimal
    avoided = torch.tensor([(n, t, tok) for n, t, tok in rows.avoid]).view(-1, 3)
    assert len(at) + len(avoided) > 0  # the model makes some mistakes (or this tests nothing)

    def log_p(gen, cells, tokens):
        with torch.no_grad():
            logits = gen.model.gpt(input_ids=rows.ids).logits.log_softmax(-1)
        return logits[cells[:, 0], cells[:, 1], tokens].mean().item()

    # each avoided token less likely where it was written; <eos> more likely where it was missed
    if len(avoided):
        cells, tokens = avoided[:, :2], avoided[:, 2]
        assert log_p(after, cells, tokens) < log_p(before, cells, tokens) - 0.5
    if len(at):
        cells = torch.stack([at[:, 0], at[:, 1] - 1], 1)
        eos = torch.full((len(cells),), before.encoder.eos_id)
        assert log_p(after, cells, eos) > log_p(before, cells, eos) + 0.5
