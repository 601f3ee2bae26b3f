"""Grammar-aware training: the allowed-token masks along the answers, the loss against a direct
computation, and a model trained with the grammar term putting less mass on forbidden tokens."""

from __future__ import annotations

import json
import math

import pytest
import torch

from qml.generators.grammar_loss import illegal_mass, illegal_mass_loss, legal_masks, next_token_loss
from qml.generators.llm.constrained import QasmGrammar
from qml.generators.llm.dataset import read_records
from qml.generators.llm.prompts import chat_prompt
from qml.generators.llm.sft import IGNORE, Encoder, answer_starts, encode, grammar_masks, prompt_pieces
from qml.generators.tokenizer import train_tokenizer


def _encoded(records_dir):
    recs = read_records(records_dir / "records.jsonl")
    tok = train_tokenizer([t for r in recs for t in (*prompt_pieces(chat_prompt(r)), r["qasm"])], 600)
    enc = Encoder(tok)
    kept: list[dict] = []
    ids, labels, _ = encode(recs, enc, 256, kept)
    return recs, kept, tok, enc, ids, labels


def test_masks_allow_every_reference_token_and_nothing_past_the_register(records_dir):
    recs, kept, tok, enc, ids, labels = _encoded(records_dir)
    assert kept == recs  # every record fits: kept in order
    masks = grammar_masks(ids, answer_starts(labels), [r["n_qubits"] for r in kept], tok, enc.eos_id)
    assert masks.refused == 0
    pieces = [tok.decode([i]) for i in range(tok.vocab_size)]
    for k, r in enumerate(kept):
        answer = (labels[k] != IGNORE).nonzero()[:, 0]
        first, last = int(answer[0]), int(answer[-1])
        # masked exactly from the last prompt token to the token before <eos>, nowhere else
        assert (masks.index[k, first - 1 : last] >= 0).all()
        assert (masks.index[k, : first - 1] < 0).all() and (masks.index[k, last:] < 0).all()
        for t in range(first - 1, last):
            allowed = masks.table[masks.index[k, t]]
            assert allowed[ids[k, t + 1]]  # the reference token is allowed
        # no allowed token anywhere writes an index past the register (or a new register)
        n = r["n_qubits"]
        for t in range(first - 1, last):
            for i in masks.table[masks.index[k, t]].nonzero()[:, 0].tolist():
                assert f"q[{n}]" not in pieces[i] and f"[{n + 1}]" not in pieces[i]
    # <eos> is allowed exactly where the answer ends (after at least one gate line)
    k = 0
    last = int((labels[k] != IGNORE).nonzero()[-1, 0])
    assert masks.table[masks.index[k, last - 1], enc.eos_id]
    assert (
        not masks.table[masks.index[k, last - 2], enc.eos_id] or tok.decode([int(ids[k, last - 1])]) == "\n"
    )


def test_an_answer_outside_the_grammar_gets_no_masks(records_dir):
    recs, kept, tok, enc, ids, labels = _encoded(records_dir)
    r = dict(recs[0])
    n = r["n_qubits"]
    r["qasm"] = r["qasm"].rstrip("\n") + f"\nh q[{n}];\n"  # one index past the register
    bad_ids, bad_labels, _ = encode([r, recs[1]], enc, 256)
    masks = grammar_masks(bad_ids, answer_starts(bad_labels), [n, recs[1]["n_qubits"]], tok, enc.eos_id)
    assert masks.refused == 1
    assert (masks.index[0] < 0).all() and (masks.index[1] >= 0).any()


def test_loss_is_minus_log_allowed_probability():
    torch.manual_seed(1)
    pieces = ["", "OPENQASM 3.0;\n", "h q[0];\n", "h q[1];\n", "h q[2];\n", "x", "\n"]
    grammar = QasmGrammar(2)
    header = 'include "stdgates.inc";\nqubit[2] q;\n'
    pieces.append(header)
    rows = [([9, 9, 1, 7, 2, 3, 0], 2, grammar, None)]
    masks = legal_masks(rows, pieces, 0, 7)
    assert masks.refused == 0 and (masks.index[0, 1:6] >= 0).all()
    assert not masks.table[masks.index[0, 4], 4]  # h q[2] is past a 2-qubit register
    assert masks.table[masks.index[0, 4], 3] and masks.table[masks.index[0, 4], 2]
    logits = torch.randn(1, 7, len(pieces), requires_grad=True)
    loss = illegal_mass_loss(logits, masks.index, masks.table)
    p = torch.softmax(logits.detach(), dim=-1)[0]
    direct = -sum(math.log(float(p[t][masks.table[masks.index[0, t]]].sum())) for t in range(1, 6)) / 5
    assert abs(float(loss.detach()) - direct) < 1e-5
    loss.backward()
    assert logits.grad[0, 0].abs().sum() == 0 and logits.grad[0, 6].abs().sum() == 0  # unmasked positions
    # the gradient raises every allowed token's logit and lowers every forbidden one's
    g = logits.grad[0, 4]
    allowed = masks.table[masks.index[0, 4]]
    assert (g[allowed] <= 0).all() and (g[~allowed] >= 0).all()


def test_training_with_the_grammar_term_lowers_forbidden_mass(records_dir, tmp_path):
    from qml.training.experiment import train

    runs = {}
    for weight in (0.0, 5.0):
        run_dir, _ = train(
            "llm-circuits",
            None,
            out=tmp_path / f"w{weight}",
            data_root=str(records_dir),
            progress=False,
            model_options={"size": "tiny"},
            data_options={"vocab_size": 600, "block": 256, "grammar_weight": weight},
            epochs=40,
            batch_size=8,
            lr=1e-2,
            seed=3,
        )
        runs[weight] = json.loads((run_dir / "metrics.json").read_text())
    assert "val_illegal_mass" not in runs[0.0]
    with_term = runs[5.0]
    assert with_term["grammar_refused"] == {"train": 0, "val": 0}
    history = with_term["history"]["val_illegal_mass"]
    assert history[-1] < history[0]  # falls as it trains
    # the same model and data trained without the term: each measured on every record's answer
    from qml.generators.llm.generate import load_llm

    recs = read_records(records_dir / "records.jsonl")
    mass = {}
    for weight in (0.0, 5.0):
        run = next((tmp_path / f"w{weight}").glob("llm-circuits-*"))
        gen = load_llm(run)
        enc_run = gen.encoder
        r_ids, r_labels, _ = encode(recs, enc_run, 256)
        r_masks = grammar_masks(
            r_ids, answer_starts(r_labels), [r["n_qubits"] for r in recs], enc_run.tok, enc_run.eos_id
        )
        mass[weight] = illegal_mass(lambda b, m=gen.model: m.gpt(input_ids=b).logits, r_ids, r_masks)
    assert mass[5.0] < 0.75 * mass[0.0]  # measured: 0.19 against 0.33


def test_ketgpt_block_masks_follow_each_pinned_header(quick_root):
    """Every piece of a long circuit is masked from its own pinned header: each reference token is
    allowed, no allowed token indexes past that block's register, and pieces cut before the
    circuit's end (padding or a full block) keep their masks."""
    import re

    from data.algorithm_circuits import read_corpus
    from qml.generators.lm_task import block_masks, blocks_of
    from qml.generators.qasm_text import canonical, qubits_of_header

    texts = [canonical(t) for t in read_corpus(quick_root).texts("train")[:12]]
    tok = train_tokenizer(texts, 400)
    blocks = blocks_of(texts, tok, 64)
    masks = block_masks(blocks, tok)
    assert masks.refused == 0
    assert len(blocks) > len(texts)  # some circuits span several blocks
    pieces = [tok.decode([i]) for i in range(tok.vocab_size)]
    continued = 0
    for k, row in enumerate(blocks.tolist()):
        n = qubits_of_header(tok.decode(row[1:]))
        masked = (masks.index[k] >= 0).nonzero()[:, 0].tolist()
        assert masked, k
        continued += tok.eos_id not in row[1:]
        for t in masked:
            allowed = masks.table[masks.index[k, t]]
            assert allowed[row[t + 1]]
            for i in allowed.nonzero()[:, 0].tolist():
                assert all(int(j) < n for j in re.findall(r"q\[(\d+)\]", pieces[i]))
    assert continued > 0


def test_ketgpt_trains_with_the_grammar_term(quick_root, tmp_path):
    from circuits.errors import ConfigurationError
    from qml.training.experiment import train

    options = {"vocab_size": 400, "block": 64, "grammar_weight": 2.0}
    common = {"out": tmp_path, "data_root": str(quick_root), "subset": 12, "progress": False, "batch_size": 8}
    _, metrics = train("ketgpt", "algorithm-circuits-quick", epochs=2, data_options=options, **common)
    assert metrics["grammar_refused"] == {"train": 0, "val": 0}
    history = metrics["history"]["val_illegal_mass"]
    assert len(history) == 2 and 0 < history[-1] < history[0] < 1
    with pytest.raises(ConfigurationError, match="pinned"):
        train(
            "ketgpt",
            "algorithm-circuits-quick",
            epochs=1,
            data_options={**options, "chunking": "stream"},
            **common,
        )


def test_grammar_path_cross_entropy_equals_the_models_own_loss(records_dir):
    """The grammar path computes its cross-entropy itself: it must equal transformers' loss of the
    same batch, and add exactly ``weight`` times the grammar term."""
    from qml.generators.llm.sft import completion_loss
    from qml.generators.lm import CircuitLM

    recs, kept, tok, enc, ids, labels = _encoded(records_dir)
    masks = grammar_masks(ids, answer_starts(labels), [r["n_qubits"] for r in kept], tok, enc.eos_id)
    torch.manual_seed(0)
    model = CircuitLM(tok.vocab_size, "tiny", tok.eos_id, tok.pad_id, n_positions=256)
    b_ids, b_lab, index = ids[:4], labels[:4], masks.index[:4]
    plain = completion_loss(model, b_ids, b_lab)  # transformers' own loss
    assert torch.allclose(completion_loss(model, b_ids, b_lab, index, masks.table, 1e-12), plain, atol=1e-6)
    width = int((b_lab != IGNORE).nonzero()[:, 1].max()) + 1
    term = illegal_mass_loss(model(b_ids[:, :width])[:, :-1], index[:, : width - 1], masks.table)
    mixed = completion_loss(model, b_ids, b_lab, index, masks.table, 0.5)
    assert float(term) > 0 and torch.allclose(mixed, plain + 0.5 * term, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_grammar_term_trains_on_the_gpu_with_its_table_on_the_cpu():
    """The masks' table stays on the CPU while the logits are on the GPU (a run with
    ``--device cuda`` failed on exactly this before the fix); the loss equals the CPU one."""
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 6)
    targets = torch.tensor([[1, 2, -100, 3], [0, -100, -100, 5]])
    table = torch.tensor([[True, True, False, True, False, False], [False, True, True, True, True, True]])
    index = torch.tensor([[0, 1, -1, 0], [1, -1, -1, 1]])
    cpu = next_token_loss(logits, targets, index, table, 0.5)
    gpu = next_token_loss(logits.cuda(), targets.cuda(), index.cuda(), table, 0.5)
    assert torch.allclose(gpu.cpu(), cpu, atol=1e-5)
