"""Digit-run rows: angles rewritten to end in a run of one digit, the loss on closing the number
and none on the rewritten digits; a round on them makes the close more likely."""

from __future__ import annotations

import json
import random

import pytest
import torch

from circuits.errors import ConfigurationError
from qml.generators.llm.dataset import read_records
from qml.generators.llm.digit_runs import digit_run_rows, rewrite_runs
from qml.generators.llm.encoding import IGNORE
from qml.generators.llm.on_policy import DECIMALS, shape_of

QASM = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0];\nh q[1];\n'
    "cx q[0], q[1];\nrz(-1.52) q[1];\ncx q[0], q[1];\nrx(0.3012) q[0];\nrx(0.3012) q[1];\n"
)


@pytest.mark.parametrize("seed", range(5))
def test_rewrite_runs_changes_only_decimals_into_four_ending_in_a_run(seed):
    text, spans = rewrite_runs(QASM, random.Random(seed), per_answer=2)
    assert len(spans) == 2
    old, new = QASM.splitlines(), text.splitlines()
    assert new[0] == "OPENQASM 3.0;"  # the version is no angle
    assert [shape_of(x) for x in new] == [shape_of(x) for x in old]  # only angles change
    for a, b in spans:
        digits = text[a:b]
        assert len(digits) == DECIMALS and digits.isdigit()
        assert text[a - 1] == "." and text[b] in "),"
        assert digits[-1] != "0" and digits[-1] == digits[-2]  # a run of at least two, no trailing 0
    # all three angles when asked for more; the same seed, the same text
    assert len(rewrite_runs(QASM, random.Random(seed), per_answer=9)[1]) == 3
    assert rewrite_runs(QASM, random.Random(seed), per_answer=2)[0] == text


def test_digit_run_rows_teach_the_close_and_not_the_digits(records_dir, tiny_run):
    from qml.generators.llm.generate import load_llm

    enc = load_llm(tiny_run).encoder
    records = read_records(records_dir / "records.jsonl")[:12]
    rows = digit_run_rows(records, enc, 256, seed=1)
    assert rows.stats["rows"] == len(rows.ids) == 12 and rows.stats["angles"] == 24
    tok = enc.tok
    closes = 0
    for n, (text, spans) in enumerate(rows.texts):
        start, ids, labels = rows.starts[n], rows.ids[n].tolist(), rows.labels[n].tolist()
        assert all(v == IGNORE for v in labels[:start])  # the prompt carries no loss
        end = ids.index(enc.eos_id)
        assert tok.decode(ids[start:end]) == text and labels[end] == enc.eos_id
        inside = {i for a, b in spans for i in range(a, b)}
        after = {b for _, b in spans}  # the character that closes each rewritten number
        pos = 0
        for t in range(start, end):
            piece = tok.decode([ids[t]])
            chars = set(range(pos, pos + len(piece)))
            pos += len(piece)
            if max(chars) in inside:  # its last character is a rewritten digit: no loss
                assert labels[t] == IGNORE
            else:  # the rest of the answer, the close included, is taught as written
                assert labels[t] == ids[t]
                closes += bool(chars & after)
        assert closes >= len(spans)
    for n, t, token in rows.avoid:  # the run's digit once more, right after the fourth decimal
        text, spans = rows.texts[n]
        written = tok.decode(rows.ids[n, rows.starts[n] : t + 1].tolist())
        assert any(len(written) == b and tok.decode([token]) == text[b - 1] for _, b in spans)


def _digit_round(records_dir, out, epochs, **data):
    from qml.training.experiment import train

    return train(
        "llm-circuits",
        None,
        out=out,
        data_root=str(records_dir),
        progress=False,
        model_options={"size": "tiny"},
        data_options={"block": 256, **data},
        epochs=epochs,
        batch_size=8,
        lr=3e-3,
    )


def test_digit_runs_option_is_checked(records_dir, tiny_run, tmp_path):
    with pytest.raises(ConfigurationError, match="digit_runs must be >= 0"):
        _digit_round(records_dir, tmp_path, 1, init=str(tiny_run), digit_runs=-1)


def test_a_digit_run_round_makes_closing_the_number_more_likely(records_dir, tiny_run, tmp_path):
    from qml.generators.llm.generate import load_llm

    run_dir, _ = _digit_round(records_dir, tmp_path / "runs", 20, init=str(tiny_run), digit_runs=40, replay=8)
    # the control: as many epochs on the reference rows alone
    control_dir, _ = _digit_round(records_dir, tmp_path / "control", 20, init=str(tiny_run))
    saved = json.loads((run_dir / "run.json").read_text())
    runs = saved["on_policy"]["digit_runs"]["rows"]
    assert saved["on_policy"]["replay"] == 8 and runs > 16 and saved["n_records"]["train"] == 8 + runs
    before, after, control = load_llm(tiny_run), load_llm(run_dir), load_llm(control_dir)
    # fresh rewritten answers (another seed than the round's), the tokens that close each number
    rows = digit_run_rows(read_records(records_dir / "records.jsonl"), before.encoder, 256, seed=99)
    cells = []
    for n, (_, spans) in enumerate(rows.texts):
        pos, start = 0, rows.starts[n]
        for t in range(start, int((rows.ids[n] == before.encoder.eos_id).nonzero()[0])):
            piece = before.encoder.tok.decode([int(rows.ids[n, t])])
            for _, b in spans:
                if pos <= b < pos + len(piece):
                    run_digit = before.encoder.tok.encode(rows.texts[n][0][b - 1])[0]
                    cells.append((n, t - 1, int(rows.ids[n, t]), run_digit))
            pos += len(piece)
    cells = torch.tensor(cells)

    def log_p(gen):
        with torch.no_grad():
            logits = gen.model.gpt(input_ids=rows.ids).logits.log_softmax(-1)
        return logits[cells[:, 0], cells[:, 1], cells[:, 2]].mean().item()

    def margin(gen):  # log P(the close) - log P(the run's digit once more)
        with torch.no_grad():
            logits = gen.model.gpt(input_ids=rows.ids).logits.log_softmax(-1)
        close = logits[cells[:, 0], cells[:, 1], cells[:, 2]]
        digit = logits[cells[:, 0], cells[:, 1], cells[:, 3]]
        return (close - digit).mean().item()

    assert len(cells) >= len(rows.texts)
    assert log_p(after) > log_p(before) + 0.5
    # closing beats writing the run's digit again by more than after the control (measured: the
    # margin rose from -0.1 to 0.97 nats, the control's to 0.36)
    assert margin(after) > margin(before) + 0.5
    assert margin(after) > margin(control) + 0.3  # not the effect of more epochs alone
