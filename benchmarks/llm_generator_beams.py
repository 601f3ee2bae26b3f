"""Free (unconstrained) validity of the LLM circuit generator against the decoding's beam width.

Answers the same held-out prompts as ``repro_llm_generator.py`` (its work folder's
``generated_free/records.jsonl``) with the trained model of that study, greedy (``num_beams=1``,
the pinned decoding) and with wider beams, and scores syntax validity exactly as the study does
(``qiskit_qasm3_import`` parse, indices within their registers). A decoding lever measured apart
from training.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/llm_generator_beams.py --beams 1 4 8 16
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import add_out, markdown_table, new_parser, run_main, write_results  # noqa: E402

WORK = Path.home() / ".cache" / "ketml" / "repro_llm_generator"


def valid_fraction(texts: list[str]) -> float:
    """Fraction of answers that parse as OpenQASM 3 with every index inside its register."""
    from qml.generators.llm.evaluate import _parse

    ok = 0
    for text in texts:
        try:
            _parse(text)
        except Exception:  # noqa: BLE001 - any parse or index error makes the answer invalid
            continue
        ok += 1
    return ok / len(texts)


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--work", type=Path, default=WORK, help="repro_llm_generator.py's work folder")
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--tag", default="", help="results file suffix (another work folder's model)")
    add_out(parser)
    args = parser.parse_args(argv)
    import torch

    import qml.generators.llm.generate as generate

    runs = sorted((args.work / "runs").iterdir())
    if not runs:
        raise SystemExit(f"no trained model under {args.work / 'runs'}: run repro_llm_generator.py first")
    gen = generate.load_llm(runs[-1])
    records = [
        json.loads(line) for line in (args.work / "generated_free" / "records.jsonl").read_text().splitlines()
    ]
    pinned = dict(generate.DECODING)
    rows = []
    try:
        for beams in args.beams:
            generate.DECODING["num_beams"] = beams
            t0 = time.time()
            texts = generate.generate_texts(gen, records, batch_size=8)
            rows.append({"num_beams": beams, "valid": valid_fraction(texts), "seconds": time.time() - t0})
            print(f"beams {beams}: free validity {rows[-1]['valid']:.3f}", flush=True)
    finally:
        generate.DECODING.update(pinned)
    command = (
        f"nice -n 10 env OMP_NUM_THREADS={torch.get_num_threads()} .venv/bin/python "
        "benchmarks/llm_generator_beams.py --beams "
        + " ".join(str(b) for b in args.beams)
        + (f" --work {args.work} --tag {args.tag}" if args.tag else "")
    )
    md = [
        "# LLM circuit generator: free validity against the beam width",
        "",
        f"{len(records)} held-out prompts of the study in `{args.work.name}` (the same answers' records), "
        f"the trained model `{runs[-1].name}`; no constraint on the output; deterministic beam search.",
        "",
        *markdown_table(
            ["num_beams", "syntactically valid", "seconds"],
            [[r["num_beams"], f"{100 * r['valid']:.1f} %", f"{r['seconds']:.0f}"] for r in rows],
        ),
        "",
        f"Command: `{command}`",
    ]
    name = "repro_llm_generator_beams" + (f"_{args.tag}" if args.tag else "")
    write_results(args.out, name, {"rows": rows, "command": command}, md)
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    run_main(main)
