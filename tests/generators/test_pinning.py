"""KetGPT's pinned header: every training block starts with ``<eos>`` and its circuit's header, and
sampling keeps the header in front of the sliding window, so the register size is always in view."""

from __future__ import annotations

import torch

from data.algorithm_circuits import read_corpus
from qml.generators.ketgpt.generate import Generator, header_length, pinned_window
from qml.generators.lm import CircuitLM, chunk_pinned
from qml.generators.lm_task import blocks_of
from qml.generators.qasm_text import canonical, header, qubits_of_header, split_header
from qml.generators.sampling import sample_tokens
from qml.generators.tokenizer import train_tokenizer


def test_split_header_takes_the_leading_declarations():
    text = header(3) + "creg c[2];\nh q[0];\ncreg d[1];\n"
    head, body = split_header(text)
    assert head == header(3) + "creg c[2];\n" and body == "h q[0];\ncreg d[1];\n"
    assert split_header("h q[0];\n") == ("", "h q[0];\n")


def test_chunk_pinned_puts_the_header_before_every_piece_of_whole_lines():
    head, lines = [7, 8], [[11, 12], [13], [14, 15, 16, 17], [18, 19]]
    blocks = chunk_pinned([(head, lines), ([7, 9], [[21]])], 6, eos_id=0, pad_id=1).tolist()
    assert blocks == [
        [0, 7, 8, 11, 12, 13],
        [0, 7, 8, 14, 15, 1],  # a line longer than a block is split
        [0, 7, 8, 16, 17, 1],  # the next line does not fit: a piece never starts mid-line
        [0, 7, 8, 18, 19, 0],
        [0, 7, 9, 21, 0, 1],  # a short circuit: one block, never shared with another circuit
    ]
    closing = chunk_pinned([([7], [[11, 12], [13, 14]])], 6, eos_id=0, pad_id=1).tolist()
    assert closing == [[0, 7, 11, 12, 1, 1], [0, 7, 13, 14, 0, 1]]  # never <eos> alone after a header


def test_every_training_block_of_the_corpus_shows_its_register(quick_root):
    texts = [canonical(t) for t in read_corpus(quick_root).texts("train")[:30]]
    tok = train_tokenizer(texts, 500)
    blocks = blocks_of(texts, tok, 48)
    assert len(blocks) > len(texts)  # several circuits are longer than a block
    sizes = iter([qubits_of_header(t) for t in texts])
    rebuilt, current, n = [], "", None
    for row in blocks.tolist():
        assert row[0] == tok.eos_id
        text = tok.decode(row[1:])
        head, body = split_header(text)
        assert "qreg q[" in head, text[:80]  # under stream chunking most blocks start mid-circuit
        assert body[:1].isalpha() or not body, body[:40]  # every piece starts at a statement
        if not current:
            n = next(sizes)
            current = head
        assert qubits_of_header(head) == n
        current += body
        if tok.eos_id in row[1:]:  # the circuit's last piece
            rebuilt.append(current)
            current = ""
    assert rebuilt == texts  # the pieces, without the repeated headers, are the circuits in order
    stream = blocks_of(texts, tok, 48, chunking="stream")
    assert sum("qreg q[" in tok.decode(r) for r in stream.tolist()) < len(stream) // 2


def test_header_length_stops_at_the_first_statement(quick_root):
    texts = read_corpus(quick_root).texts("train")[:20]
    tok = train_tokenizer([canonical(t) for t in texts], 500)
    gen = Generator(CircuitLM(tok.vocab_size, "tiny"), tok, [3], {"chunking": "pinned"})
    head = tok.encode(header(5) + "creg c[5];\n")
    body = tok.encode("h q[0];\ncx q[0],q[4];\n")
    assert header_length(gen, [tok.eos_id] * 3 + head + body) == 3 + len(head)
    partial = tok.encode(header(5) + "creg c[")  # the creg line is not finished: not yet pinned
    assert header_length(gen, [tok.eos_id, *partial]) == 1 + len(tok.encode(header(5)))
    lines = [tok.encode(line) for line in ["u3(0.1234,-0.5678,2.2) q[3];\n", "cx q[10],q[2];\n"] * 6]
    row = [tok.eos_id, *head, *(t for line in lines for t in line)]
    starts = {1 + len(head) + sum(len(x) for x in lines[:i]) for i in range(len(lines))}
    for start in range(1 + len(head), len(row) - 4):
        k, kept = pinned_window(gen, row, start)
        assert k == 1 + len(head) and kept >= start and kept in starts  # the window starts at a line


def _windows(lm, prompts, pin):
    """Every multi-token input the model is fed while drawing (the prompt, then each slid window)."""
    seen = []

    def record(module, args, kwargs):
        ids = kwargs.get("input_ids")
        if ids is not None and ids.shape[1] > 1:
            seen.append(ids.tolist())

    handle = lm.gpt.register_forward_pre_hook(record, with_kwargs=True)
    try:
        drawn = sample_tokens(
            lm.gpt, prompts, len(prompts), eos_id=0, top_k=None, max_new_tokens=40, seed=1, pin=pin
        )
    finally:
        handle.remove()
    return drawn, seen[1:]


def test_sliding_window_keeps_the_pinned_head():
    torch.manual_seed(0)
    lm = CircuitLM(40, "tiny", eos_id=0, pad_id=1, n_positions=16)
    prompts = [[0, 5, 6, 7], [0, 0, 8, 9]]  # the second is left-padded to the first's width
    _, free = _windows(lm, prompts, None)
    drawn, pinned = _windows(lm, prompts, lambda row, start: (4, start))
    assert free and pinned, "the window never slid"
    assert not any(w[0][:4] == [0, 5, 6, 7] for w in free)  # unpinned, the prompt falls out
    for first, second in pinned:
        assert first[:4] == [0, 5, 6, 7] and len(first) < 16
        assert second[:4] == [0, 0, 8, 9] or second[second.index(8) - 1 : second.index(8) + 2] == [0, 8, 9]
    assert len(drawn) == 2 and all(len(d) <= 40 for d in drawn)


def test_compacted_batches_draw_what_full_batches_draw():
    torch.manual_seed(5)
    lm = CircuitLM(5, "tiny", eos_id=0, pad_id=1, n_positions=16)
    lm.gpt.lm_head.weight = torch.nn.Parameter(torch.randn(5, 64) * 2)  # untied: greedy rows end
    prompts = [[0, 2 + k % 3, 2 + (k // 3) % 3, 2 + (k // 9) % 3] for k in range(12)]
    kwargs = dict(eos_id=0, temperature=0, max_new_tokens=30, batch_size=12)
    full = sample_tokens(lm.gpt, prompts, len(prompts), **kwargs)
    widths = []
    handle = lm.gpt.register_forward_pre_hook(
        lambda m, a, kw: widths.append(kw["input_ids"].shape[0]), with_kwargs=True
    )
    compact = sample_tokens(lm.gpt, prompts, len(prompts), compact=True, **kwargs)
    handle.remove()
    assert widths[0] == 12 and widths[-1] < 12  # finished rows left the batch
    lengths = sorted(len(r) for r in full)
    assert lengths[0] < lengths[-1] and lengths[-1] > 12  # rows end at different steps, some slide
    assert compact == full  # greedy rows are independent: dropping finished ones changes nothing

    def make_processor(first, width):  # row-dependent: odd rows of the batch may not write token 3
        def processor(ids, scores):
            assert ids.shape[0] == len(prompts)  # it always sees every row of the batch
            scores = scores.clone()
            scores[1::2, 3] = -float("inf")
            return scores

        return processor

    banned = sample_tokens(lm.gpt, prompts, len(prompts), make_processor=make_processor, **kwargs)
    banned_compact = sample_tokens(
        lm.gpt, prompts, len(prompts), make_processor=make_processor, compact=True, **kwargs
    )
    assert banned_compact == banned and banned != full
    assert all(3 not in row for row in banned[1::2])
    pin = lambda row, start: (4, start)  # noqa: E731
    pinned = sample_tokens(lm.gpt, prompts, len(prompts), compact=True, pin=pin, **kwargs)
    pinned_full = sample_tokens(lm.gpt, prompts, len(prompts), pin=pin, **kwargs)
    assert pinned == pinned_full


def test_masked_padding_draws_each_row_as_if_alone():
    torch.manual_seed(5)
    lm = CircuitLM(5, "tiny", eos_id=0, pad_id=1, n_positions=16)
    lm.gpt.lm_head.weight = torch.nn.Parameter(torch.randn(5, 64) * 2)
    prompts = [[0, 2, 3, 4, 2], [0, 3], [0, 4, 4]]  # left-padded to the first's width in a batch
    kwargs = dict(eos_id=0, temperature=0, max_new_tokens=30, mask_padding=True)
    alone = [sample_tokens(lm.gpt, p, 1, **kwargs)[0] for p in prompts]
    together = sample_tokens(lm.gpt, prompts, 3, batch_size=3, **kwargs)
    assert together == alone
    unmasked = sample_tokens(lm.gpt, prompts, 3, batch_size=3, eos_id=0, temperature=0, max_new_tokens=30)
    assert unmasked[0] == alone[0] and unmasked[1:] != alone[1:]  # padding seen: the short rows differ
    pin = lambda row, start: (3, start)  # noqa: E731  (pinned windows are padded too)
    alone = [sample_tokens(lm.gpt, p, 1, pin=pin, **kwargs)[0] for p in prompts]
    assert sample_tokens(lm.gpt, prompts, 3, batch_size=3, pin=pin, compact=True, **kwargs) == alone
