"""Fine-tuning: the paper's prompt, completion-only labels, the run folder, resume, a local causal LM,
and generation (unconstrained and grammar-constrained) from the run."""

from __future__ import annotations

import json

import pytest
import torch

from circuits.errors import ConfigurationError
from qml.generators.llm.dataset import read_records
from qml.generators.llm.evaluate import evaluate
from qml.generators.llm.generate import DECODING, DECODINGS, generate_ids, generate_texts, load_llm
from qml.generators.llm.prompts import SYSTEM_PROMPT, chat_prompt, user_prompt
from qml.generators.llm.sft import IGNORE, Encoder, completion_loss, encode, prompt_pieces, split_records
from qml.generators.tokenizer import train_tokenizer

from .helpers import train_tiny


def test_paper_prompt(records_dir):
    r = read_records(records_dir / "records.jsonl")[0]
    text = user_prompt(r)
    assert text.startswith(
        f"Your task is to generate a quantum circuit in QASM 3.0 with {r['n_qubits']} qubits"
    )
    assert f"and {r['layers']} layers with optimal parameters that solves the {r['problem']}" in text
    assert text.endswith("Only return the full QASM code, nothing else.")
    chat = chat_prompt(r)
    assert chat.startswith(f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n{text}")
    assert chat.endswith("<|im_start|>assistant\n")


def test_completion_only_labels_and_loss(records_dir):
    recs = read_records(records_dir / "records.jsonl")
    tok = train_tokenizer([t for r in recs for t in (*prompt_pieces(chat_prompt(r)), r["qasm"])], 600)
    enc = Encoder(tok)
    ids, labels, too_long = encode(recs, enc, 256)
    assert too_long == 0 and ids.shape == labels.shape == (len(recs), 256)
    for k, r in enumerate(recs):
        n_prompt, answer = len(enc.prompt_ids(r)), enc.ids(r["qasm"]) + [tok.eos_id]
        assert (labels[k, :n_prompt] == IGNORE).all()  # the prompt is never a target
        assert labels[k, n_prompt : n_prompt + len(answer)].tolist() == answer
        assert (labels[k, n_prompt + len(answer) :] == IGNORE).all()
        assert tok.decode(ids[k, :n_prompt].tolist()) == chat_prompt(r)  # pieces decode back exactly
    # every node number of the graph is a token of its own (readable for unseen graphs)
    pieces = [tok.decode([i]) for i in enc.prompt_ids(recs[0])]
    assert all(p in pieces for p in ("0", "1", "2", "[", "]"))
    # the loss is the mean cross-entropy over answer tokens alone
    from qml.generators.lm import CircuitLM

    torch.manual_seed(0)
    model = CircuitLM(tok.vocab_size, "tiny", tok.eos_id, tok.pad_id, n_positions=256)
    b_ids, b_lab = ids[:3], labels[:3]
    logits = model(b_ids)[:, :-1]
    target = b_lab[:, 1:]
    manual = torch.nn.functional.cross_entropy(logits[target != IGNORE], target[target != IGNORE])
    torch.testing.assert_close(completion_loss(model, b_ids, b_lab), manual)


def test_index_tokens(records_dir):
    """With ``index_tokens`` every register index is its own token, the same token as the digit
    in the prompt; without it indices are fused into whole-statement tokens."""
    import re

    recs = read_records(records_dir / "records.jsonl")
    texts = [t for r in recs for t in (*prompt_pieces(chat_prompt(r)), r["qasm"])]
    fused, split = train_tokenizer(texts, 600), train_tokenizer(texts, 600, index_tokens=True)
    assert any(re.search(r"q\[\d\]", fused.tokenizer.decode([i])) for i in fused.encode(recs[0]["qasm"]))
    for r in recs:
        enc = Encoder(split)
        ids = enc.ids(r["qasm"])
        assert split.decode(ids) == r["qasm"]  # still exact
        pieces = [split.tokenizer.decode([i]) for i in ids]
        indices = re.findall(r"\[(\d+)\]", r["qasm"])
        after = [b for a, b in zip(pieces, pieces[1:], strict=False) if a.endswith("[")]
        assert after == indices  # one token per index, in order
        assert not any(re.search(r"\[\d", p) for p in pieces)
        n = str(r["n_qubits"])
        prompt = [split.tokenizer.decode([i]) for i in enc.prompt_ids(r)]
        assert prompt[prompt.index(" with ") + 1] == n  # "... QASM 3.0 with N qubits": the same token
        assert ids[pieces.index(n)] == enc.prompt_ids(r)[prompt.index(" with ") + 1]


def test_split_keeps_graphs_apart(records_dir):
    recs = read_records(records_dir / "records.jsonl")
    train, val = split_records(recs, 0.25, seed=0)
    graph = lambda r: r["key"].rsplit("/", 1)[0]  # noqa: E731
    assert val and train and not {graph(r) for r in train} & {graph(r) for r in val}
    assert len(train) + len(val) == len(recs)


def test_run_folder_and_resume(tiny_run, records_dir):
    from qml.training.experiment import train

    for need in ("run.json", "model.pt", "checkpoint.pt", "tokenizer.json", "metrics.json", "curves.png"):
        assert (tiny_run / need).is_file(), need
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["too_long"] == {"train": 0, "val": 0}
    assert metrics["val_perplexity"] == pytest.approx(2.718281828 ** metrics["val_loss"], rel=1e-6)
    saved = json.loads((tiny_run / "run.json").read_text())
    assert saved["task"] == "llm-circuits" and saved["dataset"] == "llm-circuit-records"
    # resuming continues the recorded run (same first epochs, one more)
    _, more = train(None, resume=tiny_run, data_root=str(records_dir), epochs=3, progress=False)
    assert more["epochs"] == 3
    assert more["history"]["train_loss"][:2] == metrics["history"]["train_loss"]


def test_generation_unconstrained_and_constrained(tiny_run, records_dir):
    gen = load_llm(tiny_run)
    recs = read_records(records_dir / "records.jsonl")[:4]
    assert DECODING == {"do_sample": False, "num_beams": 1, "repetition_penalty": 1.0, "seed": 112}
    free = generate_texts(gen, recs, max_new_tokens=40)
    assert free == generate_texts(gen, recs, max_new_tokens=40)  # greedy: reproducible
    cons = generate_texts(gen, recs, constrained=True, max_new_tokens=40)
    rows = evaluate(zip(cons, recs, strict=True), n_random=20)
    assert all(r["valid"] for r in rows), [r["reason"] for r in rows]  # an undertrained model, still parses
    assert all(
        t.startswith(f'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[{r["n_qubits"]}] q;\n')
        for t, r in zip(cons, recs, strict=True)
    )


def test_the_paper_s_sampling_decoding(tiny_run, records_dir):
    """``decoding="paper"`` samples with the settings of the paper's checkpoint (Qwen2.5-Instruct):
    reproducible for its seed, another seed another answer; the grammar still holds under sampling
    (its mask comes before temperature and top-k/top-p, so they never keep only forbidden tokens)."""
    gen = load_llm(tiny_run)
    recs = read_records(records_dir / "records.jsonl")[:4]
    paper = DECODINGS["paper"]
    assert (paper["do_sample"], paper["temperature"], paper["top_p"], paper["top_k"]) == (True, 0.7, 0.8, 20)
    assert paper["repetition_penalty"] == 1.05 and paper["seed"] == 112
    first = generate_ids(gen, recs, max_new_tokens=40, decoding="paper")
    assert first == generate_ids(gen, recs, max_new_tokens=40, decoding="paper")
    assert first != generate_ids(gen, recs, max_new_tokens=40, decoding={**paper, "seed": 7})
    assert first != generate_ids(gen, recs, max_new_tokens=40)  # greedy
    cons = generate_texts(gen, recs, constrained=True, max_new_tokens=40, decoding="paper")
    rows = evaluate(zip(cons, recs, strict=True), n_random=20)
    assert all(r["valid"] for r in rows), [r["reason"] for r in rows]
    with pytest.raises(ConfigurationError, match="unknown decoding 'beam'.*greedy, paper"):
        generate_texts(gen, recs, decoding="beam")


def test_any_causal_lm_from_a_local_folder(records_dir, tmp_path):
    """A pretrained-style folder (a GPT-2 and its tokenizer, saved with save_pretrained) is
    fine-tuned with -D base=FOLDER, its tokenizer used for the prompts."""
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from qml.training.experiment import train

    recs = read_records(records_dir / "records.jsonl")
    tok = train_tokenizer([t for r in recs for t in (chat_prompt(r), r["qasm"])], 600)
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok.tokenizer, eos_token="<eos>", pad_token="<pad>")
    base = tmp_path / "base"
    hf_tok.save_pretrained(base)
    GPT2LMHeadModel(
        GPT2Config(vocab_size=len(hf_tok), n_layer=1, n_head=2, n_embd=32, n_positions=512)
    ).save_pretrained(base)
    run_dir, metrics = train(
        "llm-circuits",
        None,
        out=tmp_path / "runs",
        data_root=str(records_dir),
        progress=False,
        data_options={"base": str(base), "block": 512},
        epochs=1,
        batch_size=8,
    )
    assert metrics["model_shape"]["model_type"] == "gpt2" and (run_dir / "tokenizer").is_dir()
    gen = load_llm(run_dir)
    texts = generate_texts(gen, recs[:2], constrained=True, max_new_tokens=20)
    assert all(t.startswith("OPENQASM 3.0;") for t in texts)


def test_angle_tokens_keep_a_number_s_close_apart_from_its_digits(records_dir, tmp_path):
    """With ``angle_tokens`` (a data option of the task) no answer token merges an angle's last
    digits with its close, so closing a number is the same token after any digit."""
    import re

    from qml.generators.tokenizer import QasmTokenizer

    run_dir, _ = train_tiny(records_dir, tmp_path, {"angle_tokens": True})
    tok = QasmTokenizer.load(run_dir / "tokenizer.json")
    fused = train_tokenizer([r["qasm"] for r in read_records(records_dir / "records.jsonl")], 600)
    recs = read_records(records_dir / "records.jsonl")
    merged = [fused.tokenizer.decode([i]) for r in recs for i in fused.encode(r["qasm"])]
    assert any(re.match(r"\d+\)", p) for p in merged)  # without the option: `5) q[1];\n` tokens
    for r in recs:
        ids = tok.encode(r["qasm"])
        assert tok.decode(ids) == r["qasm"]
        pieces = [tok.tokenizer.decode([i]) for i in ids]
        assert not any(re.search(r"\d\)", p) for p in pieces)
        closes = [
            b for a, b in zip(pieces, pieces[1:], strict=False) if a[-1:].isdigit() and b.startswith(")")
        ]
        assert len(closes) == len(re.findall(r"\d\)", r["qasm"]))  # every angle closed by its own token


def test_a_record_fits_when_prompt_answer_and_eos_do(records_dir, tiny_run):
    from qml.generators.llm.generate import load_llm

    enc = load_llm(tiny_run).encoder
    r = read_records(records_dir / "records.jsonl")[0]
    need = len(enc.prompt_ids(r)) + len(enc.ids(r["qasm"])) + 1  # the <eos> included
    assert enc.fits(r, need) and not enc.fits(r, need - 1)


def test_fixed_decimals_rewrites_angles_only():
    from qml.generators.llm.encoding import fixed_decimals

    text = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[12] q;\nrz(0.019) q[1];\nu(1, -0.5, pi/2) q[10];\n'
    out = fixed_decimals(text, 4)
    assert out == text.replace("0.019", "0.0190").replace("u(1, -0.5,", "u(1.0000, -0.5000,")
    assert fixed_decimals(out, 4) == out


def test_angle_decimals_fix_every_answer_s_number_length(records_dir):
    """``angle_decimals`` (a data option) writes every training answer's angles with exactly that
    many decimals, the same values to within half the last digit."""
    import re

    from qml.registry import get_task

    prep = get_task("llm-circuits").load(
        None, data_root=str(records_dir), vocab_size=600, block=256, angle_decimals=4
    )
    data, tok = prep.train, prep.train.tokenizer
    answers = [
        tok.decode(
            [
                t
                for t, lab in zip(ids.tolist(), labels.tolist(), strict=True)
                if lab != IGNORE and t != tok.eos_id
            ]
        )
        for ids, labels in zip(data.train_ids, data.train_labels, strict=True)
    ]
    originals = [r["qasm"] for r in read_records(records_dir / "records.jsonl")]
    angles = [a for text in answers for a in re.findall(r"\(([^()]*)\)", text)]
    assert angles and all(re.fullmatch(r"-?\d+\.\d{4}", a) for a in angles)

    def shape_and_values(text):
        return re.sub(r"\([^()]*\)", "()", text), [float(a) for a in re.findall(r"\(([^()]*)\)", text)]

    sources = [shape_and_values(o) for o in originals]
    for text in answers:  # each answer is a record's circuit, its angles rounded to 4 decimals
        shape, values = shape_and_values(text)
        assert any(
            s == shape and max(abs(a - b) for a, b in zip(v, values, strict=True)) <= 5e-5 for s, v in sources
        )
    with pytest.raises(ConfigurationError, match="angle_decimals must be 1..8"):
        get_task("llm-circuits").load(None, data_root=str(records_dir), angle_decimals=9)


def test_rows_have_lengths_for_by_length_batching(records_dir, tmp_path):
    from qml.generators.llm.sft import SFTHooks
    from qml.registry import get_task
    from qml.training.config import TrainConfig

    prep = get_task("llm-circuits").load(None, data_root=str(records_dir), vocab_size=600, block=256)
    lengths = SFTHooks(prep.train, TrainConfig(), {}).lengths()
    pad = prep.dims["pad_id"]
    assert torch.equal(lengths, (prep.train.train_ids != pad).sum(1))  # prompt, answer, <eos>; pads after
    assert lengths.max() < 256 and lengths.min() > 20
    run_dir, metrics = train_tiny(records_dir, tmp_path, batch_size=4, batching="by-length")
    assert metrics["config"]["batching"] == "by-length" and metrics["val_loss"] == metrics["val_loss"]


def test_batching_benchmark_quick(records_dir, tmp_path):
    import importlib

    from qml.registry import get_task
    from qml.training.prepared_file import prepared_key, save_prepared

    args = {"vocab_size": 600, "block": 256}
    prep = get_task("llm-circuits").load(None, data_root=str(records_dir), **args)
    path = save_prepared(
        tmp_path / "p.prep", prepared_key("llm-circuits", "llm-circuit-records", **args), prep
    )
    bench = importlib.import_module("benchmarks.llm_batching_speed")
    assert bench.main(["--prepared", str(path), "--quick", "--batch-size", "4", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "llm_batching_speed.json").read_text())
    widths = result["mean_batch_width"]
    assert widths["by-length"] < widths["random"] <= 256 and result["rows"] == len(prep.train.train_ids)
    assert all(len(t) == 2 and min(t) > 0 for t in result["seconds_per_batch"].values())
    assert "| by-length |" in (tmp_path / "llm_batching_speed.md").read_text()


def test_batching_quality_benchmark_quick(records_dir, tmp_path, monkeypatch):
    import importlib

    from qml.training import loop

    monkeypatch.setattr(loop, "LENGTH_WINDOW", 3)  # windows of 3 batches: the 24 records fill some
    bench = importlib.import_module("benchmarks.llm_batching_quality")
    argv = ["--data", str(records_dir), "--quick", "--batch-size", "2", "--block", "256", "--vocab", "600"]
    assert bench.main([*argv, "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "llm_batching_quality.json").read_text())
    swept = result["swept_windows"]
    assert swept["by-length, swept"] == 1.0 and swept["by-length"] < 1.0
    assert all([r["seed"] for r in runs] == [0, 1] for runs in result["runs"].values())
    finals = [r["val_loss"][-1] for runs in result["runs"].values() for r in runs]
    assert len(finals) == 6 and all(0 < v < 20 for v in finals)
    assert len(set(finals)) == 6  # three orders, two seeds: six trainings (the swept one patched in)
    paired = result["paired_difference_to_random"]
    assert paired["random"] == [0.0, 0.0] and len(paired["by-length"]) == 2
    assert "| by-length, swept |" in (tmp_path / "llm_batching_quality.md").read_text()
    assert (tmp_path / "llm_batching_quality.png").stat().st_size > 1000


def test_a_resumed_run_may_change_its_batching(records_dir, tmp_path):
    from qml.training.experiment import train

    common = {"data_root": str(records_dir), "progress": False}
    run_dir, first = train_tiny(records_dir, tmp_path, batch_size=4, scheduler="none")  # resumable to 2
    assert first["config"]["batching"] == "random"
    with pytest.raises(ConfigurationError, match="lr"):
        train(None, resume=run_dir, epochs=2, lr=0.5, **common)
    _, second = train(None, resume=run_dir, epochs=2, batching="by-length", **common)
    saved = json.loads((run_dir / "run.json").read_text())
    assert saved["config"]["batching"] == "by-length" and saved["resumed"][-1]["batching"] == "by-length"
    assert second["epochs"] == 2 and len(second["history"]["val_loss"]) == 2
