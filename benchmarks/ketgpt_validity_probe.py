"""Free (unconstrained) validity of trained KetGPT runs, with the reasons of the invalid circuits.

Draws ``--n`` circuits from each given run folder (``ketml train ketgpt`` or
``repro_ketgpt.py --stage train``) at each temperature, checks each exactly as ``ketml verify``'s
fold 1 does (:func:`qml.generators.verify.validity.check_text`) and counts the reasons (numbers
folded to ``N``), so that tokenizer or training levers are compared on the same draws without the
full study's 1,000 circuits, classifier and structure folds. ``--stop-probe`` adds whether each
model reads the register size: the probability of ``<eos>`` right after a GHZ body on k qubits has
measured all k (``h``, a CX ladder, ``measure q[i] -> c[i]``) under the header ``qreg q[N];
creg c[N];`` with N = k (the circuit is complete) and N > k (it is not).

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ketgpt_validity_probe.py \\
        RUN [RUN ...] --n 100 --temperatures 0.8 0.3 --tag NAME
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import add_out, markdown_table, new_parser, run_main, write_results  # noqa: E402


def probe(
    gen, n: int, temperature: float, top_k: int, max_tokens: int, seed: int, drawn: Path | None = None
) -> dict:
    """Valid fraction and reason counts of ``n`` circuits drawn from the generator ``gen`` (or of
    the ``.qasm`` files in ``drawn``: circuits this run drew elsewhere, with these settings)."""
    from qml.generators.ketgpt.generate import generate
    from qml.generators.verify.validity import check_text

    t0 = time.time()
    if drawn is not None:
        texts = [f.read_text() for f in sorted(drawn.glob("*.qasm"))]
    else:
        texts = generate(
            gen, n, temperature=temperature, top_k=top_k, max_new_tokens=max_tokens, batch_size=50, seed=seed
        )
    reasons: Counter = Counter()
    for i, text in enumerate(texts):
        check, _ = check_text(text, f"c{i}")
        if not check.valid:
            reasons[re.sub(r"\d+", "N", check.reason)[:110]] += 1
    data = gen.run.get("data_options", {})
    return {
        "tokens": ", ".join(k for k in ("index_tokens", "angle_tokens") if data.get(k)) or "line merges",
        "temperature": temperature,
        "top_k": top_k,
        "n": len(texts),
        "valid": 1 - sum(reasons.values()) / max(len(texts), 1),
        "seconds": time.time() - t0,
        "reasons": dict(reasons.most_common()),
    }


STOP_SIZES = (3, 5, 8, 12)
STOP_EXTRA = (0, 1, 3, 8)


def stop_probe(gen) -> dict[int, dict[int, float]]:
    """``{k: {N - k: P(<eos>)}}`` after a measured k-qubit GHZ body under ``qreg q[N]``."""
    import torch

    from qml.generators.qasm_text import header

    tok, gpt = gen.tokenizer, gen.model.gpt.eval()
    out: dict[int, dict[int, float]] = {}
    for k in STOP_SIZES:
        ladder = "".join(f"cx q[{i}],q[{i + 1}];\n" for i in range(k - 1))
        measures = "".join(f"measure q[{i}] -> c[{i}];\n" for i in range(k))
        out[k] = {}
        for extra in STOP_EXTRA:
            n = k + extra
            ids = [tok.eos_id, *tok.encode(header(n) + f"creg c[{n}];\nh q[0];\n" + ladder + measures)]
            with torch.no_grad():
                logits = gpt(torch.tensor([ids[-gpt.config.n_positions :]])).logits[0, -1]
            out[k][extra] = float(torch.softmax(logits, -1)[tok.eos_id])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    parser.add_argument("runs", type=Path, nargs="+", help="trained KetGPT run folders")
    parser.add_argument("--n", type=int, default=100, help="circuits per run and temperature (0: none)")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.8])
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=4000, help="tokens drawn per circuit at most")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tag", default="", help="results file suffix")
    parser.add_argument(
        "--drawn",
        type=Path,
        default=None,
        help="check the .qasm files in this folder instead of drawing (one run: circuits it drew"
        " elsewhere, e.g. on a GPU, at the given temperature and top-k); seconds are then checking time",
    )
    parser.add_argument(
        "--stop-probe", action="store_true", help="also P(<eos>) after a complete GHZ body, N = k vs N > k"
    )
    add_out(parser)
    args = parser.parse_args(argv)
    import torch

    from qml.generators.ketgpt.generate import load_generator

    if args.drawn is not None and (len(args.runs) != 1 or len(args.temperatures) != 1 or not args.n):
        parser.error("--drawn checks the circuits of one run at one temperature (and --n > 0)")
    rows, stops = [], {}
    for run in args.runs:
        gen = load_generator(run)
        for temperature in args.temperatures if args.n > 0 else ():
            rows.append(
                {
                    "run": run.name,
                    **probe(gen, args.n, temperature, args.top_k, args.max_tokens, args.seed, args.drawn),
                }
            )
            print(f"{run.name} T={temperature}: valid {rows[-1]['valid']:.3f}", flush=True)
        if args.stop_probe:
            stops[run.name] = stop_probe(gen)
    command = (
        f"nice -n 10 env OMP_NUM_THREADS={torch.get_num_threads()} .venv/bin/python "
        "benchmarks/ketgpt_validity_probe.py "
        + " ".join(str(r) for r in args.runs)
        + f" --n {args.n} --temperatures {' '.join(str(t) for t in args.temperatures)} --top-k {args.top_k}"
        + (f" --tag {args.tag}" if args.tag else "")
        + (" --stop-probe" if args.stop_probe else "")
        + (f" --drawn {args.drawn}" if args.drawn else "")
    )
    md = ["# KetGPT: free validity of trained runs, with the reasons"]
    if rows:
        md += [
            "",
            *markdown_table(
                ["run", "tokens", "temperature", "top-k", "circuits", "valid", "seconds"],
                [
                    [
                        r["run"],
                        r["tokens"],
                        r["temperature"],
                        r["top_k"],
                        r["n"],
                        f"{100 * r['valid']:.1f} %",
                        f"{r['seconds']:.0f}",
                    ]
                    for r in rows
                ],
            ),
            "",
            "Reasons of the invalid circuits (numbers folded to N), most frequent first:",
            "",
        ]
    for r in rows:
        md.append(f"- {r['run']}, T {r['temperature']}:")
        md += [f"  - {k} x `{reason}`" for reason, k in list(r["reasons"].items())[:6]]
    if stops:
        md += [
            "",
            "Does the model read the register size? P(`<eos>`) right after a GHZ body on k qubits has "
            "measured all k, under `qreg q[N]; creg c[N];`: it should be near 1 at N = k (the "
            "circuit is complete) and lower at N > k.",
            "",
            *markdown_table(
                ["run", "k", *(f"N = k + {e}" for e in STOP_EXTRA)],
                [[name, k, *(f"{p[k][e]:.3f}" for e in STOP_EXTRA)] for name, p in stops.items() for k in p],
            ),
        ]
    if args.drawn is not None:
        md += [
            "",
            f"The circuits were not drawn by this command: they are the {rows[0]['n'] if rows else 0} `.qasm`"
            f" files in `{args.drawn}`, drawn from the run elsewhere at the settings above; seconds are"
            " checking time.",
        ]
    md += ["", f"Command: `{command}`"]
    name = "ketgpt_validity_probe" + (f"_{args.tag}" if args.tag else "")
    write_results(args.out, name, {"rows": rows, "stop_probe": stops, "command": command}, md)
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    run_main(main)
