"""Why the LLM circuit generator repeats a digit: its next-token choices inside the numbers where
its free answers run past the fourth decimal.

Takes the study's work folder (``repro_llm_generator.py``: its model and ``generated_free``
records), answers those prompts greedily again, and for every answer that writes a number's fifth
decimal (:func:`qml.generators.llm.on_policy.long_number_index`) lists the model's three likeliest
next tokens, and the probability of any token that closes the number (one starting with a digit
or ``)`` and holding ``)``), at each of the last five tokens before that decimal.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/llm_number_probe.py --work DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import add_out, markdown_table, new_parser, run_main, write_results  # noqa: E402

WORK = Path.home() / ".cache" / "ketml" / "repro_llm_generator"


def answer_lengths(work: Path, tok) -> dict[str, dict]:
    """Token counts of the training answers with ``tok`` and with an ``angle_tokens`` tokenizer of
    the same size trained on them."""
    import numpy as np

    from qml.generators.tokenizer import train_tokenizer

    texts = [json.loads(x)["qasm"] for x in (work / "train.jsonl").read_text().splitlines()]
    out = {}
    for name, t in (
        ("this run's", tok),
        ("angle_tokens", train_tokenizer(texts, tok.vocab_size, angle_tokens=True)),
    ):
        n = np.array([len(x) for x in t.encode_batch(texts)])
        out[name] = {
            "mean": float(n.mean()),
            "p90": float(np.percentile(n, 90)),
            "max": int(n.max()),
            "within_280": float((n <= 280).mean()),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--work", type=Path, default=WORK, help="repro_llm_generator.py's work folder")
    parser.add_argument("--tag", default="", help="results file suffix")
    add_out(parser)
    args = parser.parse_args(argv)
    import torch

    from qml.generators.llm.generate import generate_ids, load_llm
    from qml.generators.llm.on_policy import long_number_index

    run = sorted((args.work / "runs").iterdir())[-1]
    gen = load_llm(run)
    tok, enc = gen.encoder.tok, gen.encoder
    pieces = ["" if i in (enc.eos_id, enc.pad_id) else tok.decode([i]) for i in range(tok.vocab_size)]
    closes = torch.tensor([bool(p) and p[0] in "0123456789)" and ")" in p for p in pieces])
    source = args.work / "generated_free" / "records.jsonl"
    records = [json.loads(x) for x in source.read_text().splitlines()]
    answers = generate_ids(gen, records, batch_size=8)
    rows = []
    for r, ans in zip(records, answers, strict=True):
        j = long_number_index(pieces, ans)
        if j is None:
            continue
        prompt = enc.prompt_ids(r)
        with torch.no_grad():
            probs = gen.model.gpt(torch.tensor([prompt + ans[:j]])).logits[0].softmax(-1)
        for back in range(min(4, j - 1), -1, -1):
            p = probs[len(prompt) + j - 1 - back]
            top = p.topk(3)
            best = zip(top.values.tolist(), top.indices.tolist(), strict=True)
            line = "".join(pieces[t] for t in ans[: j - back]).rsplit("\n", 1)[-1]
            rows.append(
                {
                    "key": r["key"],
                    "written": line,
                    "top3": [[pieces[i], round(v, 3)] for v, i in best],
                    "p_close": round(float(p[closes].sum()), 3),
                }
            )
    lengths = answer_lengths(args.work, tok)
    command = (
        f"nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/llm_number_probe.py --work {args.work}"
    )
    md = [
        "# LLM circuit generator: the model's choices inside the numbers it runs past four decimals",
        "",
        f"Model `{run}`; {len(records)} prompts of `{args.work / 'generated_free'}`, answered greedily;"
        f" {len({x['key'] for x in rows})} answers write a fifth decimal (a number with five decimals"
        " still parses: only those that repeat a digit to the context's end are invalid). For each,"
        " the line written so far at each of the last five tokens before that decimal, the three"
        " likeliest next tokens and the probability of all tokens that close the number (the tokenizer"
        " merges a number's last digits with its close: `3) q[0];\\n`).",
        "",
        *markdown_table(
            ["answer", "line so far", "three likeliest next tokens", "P(close)"],
            [
                [
                    x["key"],
                    f"`{x['written']}`",
                    ", ".join(f"`{repr(t)[1:-1]}` {v}" for t, v in x["top3"]),
                    x["p_close"],
                ]
                for x in rows
            ],
        ),
        "",
        "Answer lengths in tokens on the study's training records: this run's tokenizer, and one"
        " trained on the same answers with `angle_tokens=True` (each angle its own piece, so a"
        " number's close is never merged with its digits).",
        "",
        *markdown_table(
            ["tokenizer", "mean", "90th percentile", "max", "answers within 280 tokens"],
            [
                [k, f"{v['mean']:.0f}", f"{v['p90']:.0f}", v["max"], f"{100 * v['within_280']:.1f} %"]
                for k, v in lengths.items()
            ],
        ),
        "",
        f"Command: `{command}`",
    ]
    name = "llm_number_probe" + (f"_{args.tag}" if args.tag else "")
    result = {"rows": rows, "lengths": lengths, "command": command, "run": str(run)}
    write_results(args.out, name, result, md)
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    run_main(main)
