"""Free (unconstrained) validity of the LLM circuit generator against the decoding's beam width,
and why the invalid answers fail.

Answers the held-out prompts of ``repro_llm_generator.py`` (its work folder's
``generated_free/records.jsonl``), or every record of ``--records`` whose reference fits the
model's context (``--seeds A-B`` builds that file first when missing: the study's problems, sizes
and QAOA depths on those graph seeds, a selection set apart from the study's test graphs), with the
study's trained model or ``--run``'s, greedy (``num_beams=1``, the pinned decoding) and with wider
beams, and scores syntax validity exactly as the study does (``qiskit_qasm3_import`` parse,
indices within their registers). An invalid answer is counted as a long number (a number with
a fifth decimal: greedy decoding repeating a digit), a run into the context's end, an index past
its register, or other. A decoding lever measured apart from training, and a cheap check of a
model on prompts that are not the study's test prompts.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/llm_generator_beams.py --beams 1 4 8 16
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import add_out, markdown_table, new_parser, run_main, write_results  # noqa: E402

WORK = Path.home() / ".cache" / "ketml" / "repro_llm_generator"
KINDS = ("long_number", "context", "index", "other")
_LONG = re.compile(r"\d\.\d{5}")


def failure(text: str, ended: bool) -> str | None:
    """None for an answer that parses with every index inside its register, else why not
    (:data:`KINDS`, the first that applies)."""
    from qml.generators.llm.evaluate import _parse

    try:
        _parse(text)
    except Exception as exc:  # noqa: BLE001 - any parse or index error makes the answer invalid
        if _LONG.search(text):
            return "long_number"
        if not ended:
            return "context"
        return "index" if isinstance(exc, IndexError) else "other"
    return None


def valid_fraction(texts: list[str]) -> float:
    """Fraction of answers that parse as OpenQASM 3 with every index inside its register."""
    return sum(failure(t, True) is None for t in texts) / len(texts)


def selection_records(path: Path, seeds: str) -> None:
    """Build ``path`` (when missing) with the study's problems, sizes and QAOA depths on the graph
    seeds ``A-B``."""
    if path.is_file():
        return
    from benchmarks.repro_llm_generator import NODES, methods
    from qml.generators.llm import build_dataset, tasks

    lo, hi = (int(x) for x in seeds.split("-"))
    todo = [t for p, ns in NODES.items() for t in tasks([p], ns, range(lo, hi + 1), methods())]
    build_dataset(todo, path, batch_size=16, progress=True)


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    parser.add_argument("--work", type=Path, default=WORK, help="repro_llm_generator.py's work folder")
    parser.add_argument("--run", type=Path, default=None, help="the trained run (default: the work folder's)")
    parser.add_argument(
        "--records", type=Path, default=None, help="records.jsonl to answer (default: the study's picks)"
    )
    parser.add_argument("--seeds", default=None, help="A-B: build --records on these graph seeds if missing")
    parser.add_argument(
        "--beams", type=int, nargs="*", default=[1, 4, 8, 16], help="greedy beam widths to measure"
    )
    parser.add_argument(
        "--decoding",
        nargs="*",
        default=[],
        help="named decodings to measure as well (qml.generators.llm.generate.DECODINGS: paper = the"
        " paper's implicit sampling)",
    )
    parser.add_argument(
        "--sample-seeds", type=int, nargs="+", default=[112], help="seeds of a sampling decoding"
    )
    parser.add_argument("--tag", default="", help="results file suffix (another work folder's model)")
    add_out(parser)
    args = parser.parse_args(argv)
    import torch

    import qml.generators.llm.generate as generate

    run = args.run
    if run is None:
        runs = sorted((args.work / "runs").iterdir()) if (args.work / "runs").is_dir() else []
        if not runs:
            raise SystemExit(f"no trained model under {args.work / 'runs'}: run repro_llm_generator.py first")
        run = runs[-1]
    gen = generate.load_llm(run)
    if args.records is None:
        source = args.work / "generated_free" / "records.jsonl"
        records = [json.loads(line) for line in source.read_text().splitlines()]
    else:
        if args.seeds:
            selection_records(args.records, args.seeds)
        source = args.records
        lines = source.read_text().splitlines()
        records = [r for r in map(json.loads, lines) if gen.encoder.fits(r, gen.context)]
    eos = gen.encoder.eos_id
    plans = [(f"greedy, {b} beams", {**generate.DECODINGS["greedy"], "num_beams": b}) for b in args.beams]
    for name in args.decoding:
        settings = generate.decoding_settings(name)
        seeds = args.sample_seeds if settings.get("do_sample") else [settings["seed"]]
        plans += [(f"{name}, seed {seed}", {**settings, "seed": seed}) for seed in seeds]
    rows = []
    for label, settings in plans:
        t0 = time.time()
        answers = generate.generate_ids(gen, records, batch_size=8, decoding=settings)
        why = [failure(generate.decode_answer(gen, ids), bool(ids) and ids[-1] == eos) for ids in answers]
        rows.append(
            {
                "decoding": label,
                "settings": settings,
                "valid": why.count(None) / len(why),
                **{k: why.count(k) for k in KINDS},
                "invalid_keys": [r["key"] for r, w in zip(records, why, strict=True) if w],
                "seconds": time.time() - t0,
            }
        )
        print(f"{label}: free validity {rows[-1]['valid']:.3f}", flush=True)
    command = (
        f"nice -n 10 env OMP_NUM_THREADS={torch.get_num_threads()} .venv/bin/python "
        "benchmarks/llm_generator_beams.py --beams "
        + " ".join(str(b) for b in args.beams)
        + (" --decoding " + " ".join(args.decoding) if args.decoding else "")
        + (" --sample-seeds " + " ".join(map(str, args.sample_seeds)) if args.decoding else "")
        + (f" --work {args.work}" if args.records is None else "")
        + (f" --run {args.run}" if args.run else "")
        + (f" --records {args.records}" if args.records else "")
        + (f" --seeds {args.seeds}" if args.seeds else "")
        + (f" --tag {args.tag}" if args.tag else "")
    )
    md = [
        "# LLM circuit generator: free validity against the decoding",
        "",
        f"{len(records)} prompts of `{source}`, the trained model `{run}`; no constraint on the output;"
        " greedy beam search and the named decodings of `generate.DECODINGS`. Invalid answers by"
        " cause: a number with a fifth decimal (a digit repeated), a run into the context's end, an"
        " index past its register, other.",
        "",
        *markdown_table(
            ["decoding", "syntactically valid", "invalid", *KINDS, "seconds"],
            [
                [
                    r["decoding"],
                    f"{100 * r['valid']:.1f} %",
                    len(r["invalid_keys"]),
                    *(r[k] for k in KINDS),
                    f"{r['seconds']:.0f}",
                ]
                for r in rows
            ],
        ),
        "",
        f"Command: `{command}`",
    ]
    name = "repro_llm_generator_beams" + (f"_{args.tag}" if args.tag else "")
    write_results(args.out, name, {"rows": rows, "command": command, "run": str(run)}, md)
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    run_main(main)
