"""Tokenizer, chunking, sampling and the circuit-lm training (resume == uninterrupted)."""

from __future__ import annotations

import pytest
import torch

from data.algorithm_circuits import read_corpus
from qml.generators.lm import CircuitLM, chunk
from qml.generators.qasm_text import header, parse
from qml.generators.sampling import sample_tokens
from qml.generators.tokenizer import QasmTokenizer, train_tokenizer


def test_tokenizer_round_trips_and_compresses(quick_root, tmp_path):
    texts = read_corpus(quick_root).texts("train")
    tok = train_tokenizer(texts, 600)
    for text in texts[:5] + ["OPENQASM 2.0;\nqreg q[7];\nrz(0.123456) q[6];\n"]:
        assert tok.decode(tok.encode(text)) == text
    n_chars = sum(len(t) for t in texts)
    n_tokens = sum(len(ids) for ids in tok.encode_batch(texts))
    assert n_chars / n_tokens > 4  # line-level merges: several characters per token
    again = QasmTokenizer.load(tok.save(tmp_path / "tok.json"))
    assert again.encode(texts[0]) == tok.encode(texts[0])
    assert train_tokenizer(texts, 600).encode(texts[3]) == tok.encode(texts[3])  # deterministic
    assert tok.decode([*tok.encode("h q[0];\n"), tok.eos_id, *tok.encode("x q[1];\n")]) == "h q[0];\n"


def test_index_and_angle_tokens_split_statements_into_indices_and_angles(quick_root):
    """With ``index_tokens`` and ``angle_tokens`` each register index and each gate angle is one
    piece, the register size in the header is the same token as an index, and text round-trips."""
    import re

    texts = read_corpus(quick_root).texts("train")
    tok = train_tokenizer(texts, 600, index_tokens=True, angle_tokens=True)
    line = "u3(pi/2,-0.125,3*pi/4) q[3];\n"
    for text in texts[:5] + [line]:
        assert tok.decode(tok.encode(text)) == text
    pieces = [tok.tokenizer.decode([i]) for i in tok.encode(line)]
    cuts = {sum(len(p) for p in pieces[:k]) for k in range(len(pieces) + 1)}
    # every angle starts and ends at a token boundary (an unseen angle may take several tokens)
    assert {3, 7, 8, 14, 15, 21, 25, 26} <= cuts
    text = next(t for t in texts if re.search(r"\bcp\(", t))
    ids = tok.encode(text)
    pieces = [tok.tokenizer.decode([i]) for i in ids]
    after_bracket = [b for a, b in zip(pieces, pieces[1:], strict=False) if a.endswith("[")]
    assert after_bracket == re.findall(r"\[(\d+)\]", text)  # one token per index, header included
    assert not any(re.search(r"\(.*,|,.*\)", p) for p in pieces)  # no piece spans an angle separator
    fused = train_tokenizer(texts, 600)
    assert any(re.search(r"q\[\d+\]", fused.tokenizer.decode([i])) for i in fused.encode(text))


def test_chunking_keeps_every_circuit_in_order_with_eos():
    blocks = chunk([[5, 6, 7], [8], [9, 10]], 4, eos_id=0, pad_id=1)
    assert blocks.tolist() == [[5, 6, 7, 0], [8, 0, 9, 10], [0, 1, 1, 1]]


def test_sampling_greedy_top_k_and_eos():
    torch.manual_seed(0)
    lm = CircuitLM(50, "tiny", eos_id=0, pad_id=1, n_positions=16)
    prompt = [0, 5, 6]
    greedy = sample_tokens(lm.gpt, prompt, 2, eos_id=0, temperature=0, max_new_tokens=40)
    top1 = sample_tokens(lm.gpt, prompt, 2, eos_id=0, temperature=1.0, top_k=1, max_new_tokens=40, seed=3)
    assert greedy == top1 and greedy[0] == greedy[1]
    assert all(len(s) <= 40 and 0 not in s for s in greedy)  # past the context (16): the window slides
    a = sample_tokens(lm.gpt, prompt, 3, eos_id=0, temperature=1.5, top_k=None, max_new_tokens=20, seed=1)
    b = sample_tokens(lm.gpt, prompt, 3, eos_id=0, temperature=1.5, top_k=None, max_new_tokens=20, seed=1)
    assert a == b and len({tuple(s) for s in a}) > 1


def _train(root, out, epochs, resume=None):
    from qml.training.experiment import train

    if resume is not None:  # the run folder decides everything but the epochs
        return train(None, resume=resume, epochs=epochs, data_root=str(root), progress=False)
    return train(
        "ketgpt",
        "algorithm-circuits-quick",
        out=out,
        data_root=str(root),
        subset=12,
        epochs=epochs,
        progress=False,
        data_options={"vocab_size": 400, "block": 64},
        batch_size=8,
    )


def test_interrupted_and_resumed_training_equals_uninterrupted(quick_root, tmp_path, monkeypatch):
    from qml.generators.lm_task import CircuitLMHooks
    from qml.training.optim import TrainingInterrupted

    full_dir, full = _train(quick_root, tmp_path / "a", 2)
    calls = []
    original = CircuitLMHooks.end_epoch

    def interrupted(self, model, generator):  # Ctrl-C during the second epoch's validation
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, model, generator)

    monkeypatch.setattr(CircuitLMHooks, "end_epoch", interrupted)
    with pytest.raises(TrainingInterrupted, match="holds epoch 1"):
        _train(quick_root, tmp_path / "b", 2)
    monkeypatch.setattr(CircuitLMHooks, "end_epoch", original)
    (part_dir,) = (tmp_path / "b").iterdir()
    _, resumed = _train(quick_root, tmp_path / "b", 2, resume=part_dir)
    assert resumed["history"]["train_loss"] == full["history"]["train_loss"]
    a = torch.load(full_dir / "model.pt", weights_only=True)
    b = torch.load(part_dir / "model.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert full["history"]["train_loss"][1] < full["history"]["train_loss"][0]
    assert (full_dir / "tokenizer.json").is_file() and full["test_perplexity"] > 1


def test_generation_from_a_trained_run(quick_root, tmp_path):
    from qml.generators.ketgpt import generate, load_generator, write_circuits

    run_dir, _ = _train(quick_root, tmp_path, 1)
    gen = load_generator(run_dir)
    texts = generate(gen, 4, qubits=3, max_new_tokens=30, seed=2)
    assert len(texts) == 4 and all(t.startswith(header(3)) for t in texts)
    kept = generate(gen, 2, qubits=3, max_new_tokens=30, valid_only=True, max_tries=2)
    for text in kept:
        parse(text)  # the filter keeps only circuits Qiskit parses
    paths = write_circuits(texts, tmp_path / "gen")
    assert [p.name for p in paths] == [f"ketgpt_{i:04d}.qasm" for i in range(4)]
    # constrained decoding: every circuit parses, on the register it was prompted with
    constrained = generate(gen, 6, max_new_tokens=40, seed=4, constrained=True, batch_size=4)
    assert len(constrained) == 6
    for text in constrained:
        n = int(text.split("qreg q[")[1].split("]")[0])
        assert parse(text).num_qubits == n and "creg c[" not in text.split("creg c[", 1)[-1]
    from typer.testing import CliRunner

    from qml.cli import app

    out = tmp_path / "cli"
    result = CliRunner().invoke(
        app,
        ["generate", "ketgpt", "--model", str(run_dir), "--out", str(out), "--n", "3", "--qubits", "4"]
        + ["--max-tokens", "30", "--constrained", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    assert all(parse(p.read_text()).num_qubits == 4 for p in sorted(out.glob("*.qasm")))


def test_cached_sampling_equals_full_recomputation_and_batches_mixed_prompts():
    torch.manual_seed(1)
    lm = CircuitLM(40, "tiny", eos_id=0, pad_id=1, n_positions=64)
    lm.gpt.lm_head.weight.data.normal_(0, 2.0)  # a peaked, varied next-token law
    with torch.no_grad():
        seq, expected = [0, 5, 6], []
        for _ in range(12):
            nxt = int(lm.gpt(input_ids=torch.tensor([seq])).logits[0, -1].argmax())
            if nxt == 0:
                break
            expected.append(nxt)
            seq.append(nxt)
    got = sample_tokens(lm.gpt, [0, 5, 6], 1, eos_id=0, temperature=0, max_new_tokens=12)
    assert got[0] == expected
    mixed = sample_tokens(lm.gpt, [[0, 5, 6], [0, 7]], 2, eos_id=0, temperature=0, max_new_tokens=12)
    assert mixed[0] == expected  # the longest prompt needs no padding: same as alone
    assert len(mixed) == 2
