"""Constrained decoding for KetGPT: the canonical OpenQASM 2 form, its grammar, and random logits
(an untrained model) through the logits processor giving only circuits Qiskit parses."""

from __future__ import annotations

import math

import pytest
import torch

from circuits.errors import ConfigurationError
from qml.generators.grammar import TokenTrie
from qml.generators.ketgpt.grammar import Qasm2Grammar, ketgpt_processor, qasm2_grammar
from qml.generators.qasm_text import QASM2_GATES, canonical, format_angle, header, parse
from qml.generators.sampling import sample_tokens
from qml.generators.tokenizer import train_tokenizer


@pytest.fixture(scope="module")
def canonical_texts(quick_root):
    from data.algorithm_circuits import read_corpus

    return [canonical(t) for t in read_corpus(quick_root).texts("all")]


@pytest.fixture(scope="module")
def tokenizer(canonical_texts):
    return train_tokenizer(canonical_texts, 500)


def test_canonical_form_keeps_the_circuit_and_fits_the_grammar(quick_root, canonical_texts):
    from data.algorithm_circuits import read_corpus

    raw = read_corpus(quick_root).texts("all")
    assert any("gate " in t or "creg meas" in t or "qreg flag" in t for t in raw)  # the exports vary
    for before, after in zip(raw, canonical_texts, strict=True):
        a, b = parse(before), parse(after)
        assert a.num_qubits == b.num_qubits and after.startswith(header(a.num_qubits))
        assert after.count("qreg") == 1 and after.count("creg") <= 1 and "gate " not in after
        assert qasm2_grammar(a.num_qubits).complete(after), after[:200]
    assert format_angle(math.pi / 4) == "pi/4" and format_angle(-3 * math.pi / 8) == "-3*pi/8"
    assert format_angle(0.27644941) == "0.2764" and format_angle(-1e-7) == "0"


def test_the_grammar_refuses_what_qiskit_would_refuse():
    g = Qasm2Grammar(3)
    head = header(3)
    assert g.complete(head + "creg c[3];\nrz(pi/2) q[2];\ncx q[0],q[1];\nmeasure q[2] -> c[0];\n")
    assert g.allows(head + "cx q[0],q[1")  # q[1] could become q[1]; q[10] is out of range
    for bad in (
        "creg c[3];\ncreg c[3];",  # 'c' is already defined
        "cx q[0],q[3];",  # out of range for the register
        "cx q[0],q[0];",  # duplicate operand
        "rz q[0];",  # a parameter missing
        "h(0.1) q[0];",
        "cx q[0];",  # arity
        "measure q[0] -> c[0];",  # no creg
        "creg c[4];",  # wider than the register
        "rz(1234.5) q[0];",  # unbounded number
        "qreg r[2];",
        "foo q[0];",
    ):
        assert not g.allows(head + bad + "\n"), bad
    assert not g.complete(head) and not g.complete(head + "creg c[2];\n")  # no gate yet
    with pytest.raises(ConfigurationError, match="unknown gates"):
        Qasm2Grammar(3, gates=["rz", "magic"])
    with pytest.raises(ConfigurationError, match="n_qubits"):
        Qasm2Grammar(0)


def test_every_allowed_gate_parses():
    for name, (nq, npar) in QASM2_GATES.items():
        par = "(" + ",".join(["-3*pi/4"] * npar) + ")" if npar else ""
        text = header(3) + name + par + " " + ",".join(f"q[{i}]" for i in range(nq)) + ";\n"
        assert qasm2_grammar(3).complete(text) and parse(text).num_qubits == 3, name


def _draw_random(tok, n: int, rows: int, steps: int, seed: int) -> list[str]:
    """Texts drawn from random logits (an untrained model) through the processor."""
    prompt = tok.encode(header(n))
    proc = ketgpt_processor(tok, [n] * rows, len(prompt))
    g = torch.Generator().manual_seed(seed)
    ids = torch.tensor([prompt] * rows)
    for _ in range(steps):
        scores = proc(ids, torch.randn(rows, tok.vocab_size, generator=g) * 3)
        ids = torch.cat([ids, torch.multinomial(torch.softmax(scores, -1), 1, generator=g)], 1)
    out = []
    for row in ids.tolist():
        body = tok.decode(row[len(prompt) :])  # decode stops at <eos>
        stopped = tok.eos_id not in row[len(prompt) :]
        out.append(header(n) + (body[: body.rfind("\n") + 1] if stopped else body))
    return out


@pytest.mark.parametrize("n", [1, 2, 5, 13])
def test_random_logits_through_the_processor_give_only_parseable_circuits(tokenizer, n):
    texts = _draw_random(tokenizer, n, rows=6, steps=150, seed=n)
    for text in texts:
        circuit = parse(text)  # raises if the text is not OpenQASM 2
        assert circuit.num_qubits == n
    assert sum(len(parse(t).data) for t in texts) > 6  # not only empty bodies
    free = []
    g = torch.Generator().manual_seed(0)
    for _ in range(6):  # the same random logits without the processor
        ids = torch.multinomial(
            torch.softmax(torch.randn(150, tokenizer.vocab_size, generator=g) * 3, -1), 1, generator=g
        )
        free.append(header(n) + tokenizer.decode(ids[:, 0].tolist()))
    bad = 0
    for text in free:
        try:
            parse(text)
        except Exception:  # noqa: BLE001 - any parser failure counts
            bad += 1
    assert bad == len(free)


def test_the_trie_walk_equals_checking_every_token(tokenizer):
    g = qasm2_grammar(4)
    pieces = [tokenizer.decode([i]) for i in range(tokenizer.vocab_size)]
    pieces[tokenizer.eos_id] = pieces[tokenizer.pad_id] = ""
    trie = TokenTrie(pieces)
    texts = [
        header(4),
        header(4) + "cx q[",
        header(4) + "creg c[4];\nmeasure q[3] -> c[",
        header(4) + "u3(0.1,",
        header(4) + "cp(0.1234) q[2],q[",  # the mask cache keys this as cp(0) q[2],q[
        header(4) + "u3(-3*pi/4,2.5,",
    ]
    for text in texts:
        state = g.feed(None, text)
        brute = {i for i, p in enumerate(pieces) if p and g.allows(p, state)}
        assert set(trie.allowed(g, state)) == brute
        assert set(trie.allowed(g, g.representative(state))) == brute, text
    assert g.representative(g.feed(None, texts[4]))[1] == "cp(0) q[2],q["


def test_constrained_sampling_from_an_untrained_model_parses(tokenizer):
    from qml.generators.lm import CircuitLM

    torch.manual_seed(0)
    lm = CircuitLM(tokenizer.vocab_size, "tiny", tokenizer.eos_id, tokenizer.pad_id, n_positions=48)
    sizes = [2, 3, 7]
    prompts = [[tokenizer.eos_id, *tokenizer.encode(header(n))] for n in sizes]
    width = max(len(p) for p in prompts)
    drawn = sample_tokens(
        lm.gpt,
        prompts,
        3,
        eos_id=tokenizer.eos_id,
        max_new_tokens=80,  # past the context of 48: the window slides, the grammar does not
        make_processor=lambda first, w: ketgpt_processor(tokenizer, sizes[first : first + 3], w),
    )
    assert width == max(len(p) for p in prompts)
    for n, ids in zip(sizes, drawn, strict=True):
        body = tokenizer.decode(ids)
        text = header(n) + (body[: body.rfind("\n") + 1] if len(ids) >= 80 else body)
        assert parse(text).num_qubits == n


def test_with_transformers_generate(tokenizer):
    from qml.generators.lm import gpt2_lm

    torch.manual_seed(0)
    model = gpt2_lm(tokenizer.vocab_size, n_positions=128, n_embd=32, n_layer=1, n_head=2).eval()
    prompt = torch.tensor([[tokenizer.eos_id, *tokenizer.encode(header(4))]] * 2)
    proc = ketgpt_processor(tokenizer, [4, 4], prompt.shape[1])
    out = model.generate(
        prompt,
        logits_processor=[proc],
        do_sample=True,
        top_k=0,
        max_new_tokens=60,
        pad_token_id=tokenizer.pad_id,
        eos_token_id=tokenizer.eos_id,
        attention_mask=torch.ones_like(prompt),
    )
    for row in out.tolist():
        body = tokenizer.decode(row[prompt.shape[1] :])
        text = header(4) + body[: body.rfind("\n") + 1]
        assert qasm2_grammar(4).allows(text) and parse(text).num_qubits == 4
