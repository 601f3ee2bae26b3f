"""The grammar-constrained decoder: random logits through it give only parseable circuits of the
requested width (and the same random logits without it do not)."""

from __future__ import annotations

import io
from contextlib import redirect_stderr

import pytest
import torch
from qiskit import QuantumCircuit, qasm3

from circuits.errors import ConfigurationError
from qml.generators.llm.constrained import GATES, QasmGrammar, QasmLogitsProcessor
from qml.generators.tokenizer import train_tokenizer

N = 4


def _parses(text: str, n: int) -> bool:
    from qiskit_qasm3_import import parse

    try:
        with redirect_stderr(io.StringIO()):
            return parse(text).num_qubits == n
    except Exception:  # noqa: BLE001 - any parser failure means "does not parse"
        return False


def _texts() -> list[str]:
    texts = []
    for seed in range(6):
        qc = QuantumCircuit(N)
        rng = torch.Generator().manual_seed(seed)
        for _ in range(8):
            a, b = torch.randperm(N, generator=rng)[:2].tolist()
            qc.rz(round(float(torch.rand(1, generator=rng)) * 3, 4), a)
            qc.crx(-round(float(torch.rand(1, generator=rng)), 4), a, b)
            qc.h(b)
        texts.append(qasm3.dumps(qc))
    return texts


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(_texts(), vocab_size=400, min_frequency=2)


def _draw(tok, processor, seed: int, steps: int = 120) -> str:
    g = torch.Generator().manual_seed(seed)
    ids: list[int] = []
    for _ in range(steps):
        scores = torch.randn(1, tok.vocab_size, generator=g)
        if processor is not None:
            scores = processor(torch.tensor([ids], dtype=torch.long), scores)
        nxt = int(torch.multinomial(torch.softmax(scores, -1)[0], 1, generator=g))
        if nxt == tok.eos_id:
            break
        ids.append(nxt)
    return tok.decode(ids)


def test_random_logits_give_only_parseable_circuits(tokenizer):
    proc = QasmLogitsProcessor(tokenizer, N, prompt_length=0, eos_token_id=tokenizer.eos_id)
    grammar = QasmGrammar(N)
    texts = [grammar.truncate(_draw(tokenizer, proc, seed)) for seed in range(12)]
    assert all(grammar.allows(t) for t in texts)
    complete = [t for t in texts if grammar.complete(t)]
    assert len(complete) >= 6  # most draws get past the header within 120 tokens
    assert all(_parses(t, N) for t in complete)
    free = [_draw(tokenizer, None, seed) for seed in range(12)]
    assert not any(_parses(t, N) for t in free)


@pytest.mark.parametrize("option", ["index_tokens", "angle_tokens"])
def test_random_logits_with_other_segmentations(option):
    """The decoder works on any tokenizer's pieces: with every register index, or every angle, its
    own piece too."""
    tok = train_tokenizer(_texts(), vocab_size=400, min_frequency=2, **{option: True})
    proc = QasmLogitsProcessor(tok, N, prompt_length=0, eos_token_id=tok.eos_id)
    grammar = QasmGrammar(N)
    texts = [grammar.truncate(_draw(tok, proc, seed, steps=200)) for seed in range(8)]
    complete = [t for t in texts if grammar.complete(t)]
    assert len(complete) >= 4 and all(_parses(t, N) for t in complete)


def test_every_allowed_gate_parses_and_runs():
    from circuits import statevector

    head = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\n'
    for name, (nq, npar) in GATES.items():
        par = "(" + ", ".join(["0.5"] * npar) + ")" if npar else ""
        text = head + name + par + " " + ", ".join(f"q[{i}]" for i in range(nq)) + ";\n"
        assert QasmGrammar(3).complete(text) and _parses(text, 3), name
        from qiskit_qasm3_import import parse

        assert statevector(parse(text)).shape == (1, 8)


def test_grammar_refuses_what_would_not_run():
    g = QasmGrammar(3)
    head = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\n'
    assert g.complete(head + "rz(0.5) q[2];\ncx q[0], q[1];\n")
    assert g.allows(head + "cx q[0], q[1")  # q[1] could become q[1], q[10] is out of range
    for bad in (
        "cx q[0], q[0];",
        "rz q[0];",
        "h(0.1) q[0];",
        "rz(0.1) q[3];",
        "foo q[0];",
        "cx q[0];",
        "rz(pi) q[0];",
        "rz(1234.5) q[0];",
    ):
        assert not g.allows(head + bad + "\n"), bad
    assert not g.complete(head)  # no gate yet
    assert g.truncate(head + "rz(0.1") == head
    with pytest.raises(ConfigurationError, match="unknown gates"):
        QasmGrammar(3, gates=["rz", "magic"])


def test_with_transformers_generate(tokenizer):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    cfg = GPT2Config(
        vocab_size=tokenizer.vocab_size,
        n_positions=256,
        n_embd=32,
        n_layer=1,
        n_head=2,
        bos_token_id=tokenizer.eos_id,
        eos_token_id=tokenizer.eos_id,
    )
    model = GPT2LMHeadModel(cfg).eval()
    prompt = torch.tensor([[tokenizer.eos_id]])
    proc = QasmLogitsProcessor(tokenizer, N, prompt_length=1, eos_token_id=tokenizer.eos_id)
    out = model.generate(
        prompt,
        logits_processor=[proc],
        do_sample=True,
        top_k=0,
        max_new_tokens=80,
        pad_token_id=tokenizer.pad_id,
        attention_mask=torch.ones_like(prompt),
    )
    text = QasmGrammar(N).truncate(tokenizer.decode(out[0, 1:].tolist()))
    assert text.startswith("OPENQASM 3.0;") and QasmGrammar(N).allows(text)
    if QasmGrammar(N).complete(text):
        assert _parses(text, N)
