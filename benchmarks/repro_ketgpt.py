"""KetGPT study (issue 19; Apak, Bandic, Sarkar, Feld, arXiv 2402.13352).

1. Train KetGPT (``ketml train ketgpt``: byte-level line BPE, GPT-2 from scratch) on the training
   split of the MQT Bench corpus ``algorithm-circuits`` in its canonical OpenQASM 2 form (one
   ``qreg q[N]``, one ``creg c[K]``, custom gates decomposed, short angles; circuits up to
   ``--max-chars`` characters; CPU budget), checkpointed every epoch and resumed if interrupted.
2. Generate ``--n`` circuits from the header prompt (N drawn from the training widths) twice: free
   sampling, and grammar-constrained decoding (:mod:`qml.generators.ketgpt.grammar`); no filter.
3. Verify four sets with one :class:`qml.generators.verify.Verifier` (classifier trained on the
   corpus's training split against matched random circuits, saved in ``--work`` and reused): the
   two generated sets, the held-out real test split (unseen family/size) and random circuits
   matched in width and gate count to the held-out real ones (and, beside each generated set, a
   random baseline matched to its valid output). Folds: valid fraction, fraction called real,
   structural Wasserstein distances to real (random baseline), novelty (exact / near copies of
   training circuits).

Each stage is skipped when its output exists in ``--work`` (default ``$KETML_DATA/repro_ketgpt``),
so an interrupted run continues; results that are partial say so in ``status``.

    nice -n 19 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/repro_ketgpt.py
    (--quick: the quick corpus, a tiny model, 40 circuits)
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    StepTimeout,
    add_out,
    add_quick,
    deadline,
    is_timeout,
    launch_command,
    machine_summary,
    markdown_table,
    new_parser,
    run_main,
    write_results,
)

TARGETS = {"valid": 0.99, "called_real": 0.90, "random_called_real": 0.10}
REAL = "real (held-out test)"
RANDOM = "random (matched to the held-out real in width and gate count)"
#: the generated sets: name -> (folder in --work, file prefix, constrained decoding)
GENERATED = {
    "ketgpt": ("generated", "ketgpt", False),
    "ketgpt constrained": ("generated_constrained", "ketgptc", True),
}


def train_stage(work: Path, quick: bool, args) -> Path:
    """The finished run folder (trained now, resumed, or found)."""
    from qml.training.experiment import train

    runs = work / "runs"
    found = sorted(runs.glob("ketgpt-*")) if runs.is_dir() else []
    if found and (found[-1] / "metrics.json").is_file():
        print(f"training: found {found[-1]}", flush=True)
        return found[-1]
    dataset = "algorithm-circuits-quick" if quick else "algorithm-circuits"
    data_options = {"chunking": args.chunking}
    if not quick:
        data_options.update(max_chars=args.max_chars, block=args.block)
    if args.index_tokens:
        data_options["index_tokens"] = True
    if args.angle_tokens:
        data_options["angle_tokens"] = True
    if args.grammar_weight:
        data_options["grammar_weight"] = args.grammar_weight
    resume = found[-1] if found and (found[-1] / "checkpoint.pt").is_file() else None
    print(f"training on {dataset} ({'resuming ' + str(resume) if resume else 'new run'})", flush=True)
    if resume is not None:  # the run folder decides everything but the epochs and the device
        return train(
            None,
            resume=resume,
            epochs=args.epochs,
            device=args.device,
            progress=True,
            prepared_file=args.prepared,
        )[0]
    shape = {"n_layer": args.layers, "n_embd": args.width, "n_head": args.heads}
    model_options = {} if quick else {"size": args.size, **{k: v for k, v in shape.items() if v}}
    run_dir, _ = train(
        "ketgpt",
        dataset,
        out=runs,
        progress=True,
        model_options=model_options,
        data_options=data_options,
        epochs=args.epochs,
        batch_size=args.batch_size,
        device=args.device,
        prepared_file=args.prepared,
        prepare_only=args.stage == "prepare",
        **({"lr": args.lr} if args.lr else {}),
    )
    return run_dir


def finish_from_checkpoint(work: Path, prepared_file: Path | None = None) -> Path:
    """Finish a run that was stopped for time (:func:`qml.training.experiment.finish_stopped`):
    the best weights so far become the model; metrics.json is marked ``stopped_at_epoch``."""
    from qml.training.experiment import finish_stopped

    (run_dir,) = sorted((work / "runs").glob("ketgpt-*"))[-1:]
    finish_stopped(run_dir, prepared_file=prepared_file)
    return run_dir


def generate_stage(run_dir: Path, work: Path, n: int, args, name: str = "ketgpt") -> Path:
    """``n`` circuits of set ``name`` (:data:`GENERATED`) in its folder of ``work``, drawn in chunks
    of 100 (each written when drawn, so an interrupted run keeps what it drew; a later run
    continues from there)."""
    from qml.generators.ketgpt import generate, load_generator, write_circuits

    folder, prefix, constrained = GENERATED[name]
    out = work / folder
    out.mkdir(parents=True, exist_ok=True)
    meta = out / "generation.json"
    info = json.loads(meta.read_text()) if meta.is_file() else {"seconds": 0.0, "chunks": 0}
    have = len(list(out.glob("*.qasm")))
    if have >= n or (args.use_generated and have):
        print(f"generation: found {have} circuits in {out}", flush=True)
        return out
    gen = load_generator(run_dir, args.device)
    chunk = 100
    while have < n:
        t0 = time.perf_counter()
        k = min(chunk, n - have)
        texts = generate(
            gen,
            k,
            temperature=args.temperature,
            top_k=args.top_k,
            max_new_tokens=args.max_tokens,
            batch_size=args.batch,
            seed=1000 * info["chunks"],
            progress=True,
            constrained=constrained,
        )
        tmp = work / ".chunk.part"
        shutil.rmtree(tmp, ignore_errors=True)
        for path in write_circuits(texts, tmp, prefix=f"{prefix}_c{info['chunks']:02d}"):
            path.rename(out / path.name)
        shutil.rmtree(tmp, ignore_errors=True)
        have += len(texts)
        info["chunks"] += 1
        info["seconds"] += time.perf_counter() - t0
        info["n"] = have
        meta.write_text(json.dumps(info))
        print(f"{name}: generated {have} of {n} ({info['seconds']:.0f} s)", flush=True)
    return out


def verify_stage(
    folders: dict[str, Path],
    corpus: str,
    out: Path,
    work: Path,
    quick: bool,
    engine: str = "torch",
    max_chars: int | None = None,
) -> dict:
    """The folds of each set. The structure reference is the real training circuits the model was
    trained on (canonical text up to ``max_chars``), and the held-out real set is cut the same way,
    so that the generated circuits are compared with the lengths the model learned."""
    from data.algorithm_circuits import load_algorithm_circuits
    from qml.generators.lm_task import canonical_texts
    from qml.generators.verify import Verifier
    from qml.generators.verify.validity import check_text

    t0 = time.perf_counter()
    verifier = Verifier.cached(corpus, path=work / "verifier.pt", epochs=4 if quick else 8, progress=True)
    print(f"classifier: {verifier.heldout} ({time.perf_counter() - t0:.0f} s)", flush=True)
    data = load_algorithm_circuits(corpus, progress=False)

    def within(records):
        return [max_chars is None or len(t) <= max_chars for t in canonical_texts(data, records)]

    reference = verifier.reference_within(within(data.split("train")))
    sets = {}
    for name, folder in folders.items():
        files = sorted(folder.glob("*.qasm"))
        generated = [p.read_text() for p in files]
        checks = [check_text(t, p.name, engine=engine) for t, p in zip(generated, files, strict=True)]
        slug = name.replace(" ", "_")
        plot = out / f"structure_{slug}.png"
        names = [p.name for p in files]
        sets[name] = verifier.assess(
            generated, names, checks=checks, plot=plot, label="ketgpt", reference=reference
        )
        print(f"{name} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    test = data.split("test")
    real = [r for r, k in zip(test, within(test), strict=True) if k]
    sets[REAL] = verifier.assess(
        [r.text for r in real],
        [r.path.name for r in real],
        plot=out / "structure_real.png",
        label="real",
        engine=engine,
        reference=reference,
    )
    print("real done", flush=True)
    shapes = [(r.num_qubits, r.n_gates) for r in real]  # as many as the held-out real, matched to them
    random_texts = verifier.random_baseline(shapes, seed=11)
    sets[RANDOM] = verifier.assess(
        random_texts,
        None,
        plot=out / "structure_random.png",
        label="random",
        baseline=False,
        engine=engine,
        reference=reference,
    )
    print("random done", flush=True)
    return {
        "classifier": verifier.summary(),
        "sets": sets,
        "seconds": time.perf_counter() - t0,
        "n_reference": len(reference),
        "n_test_all": len(test),
    }


def length_stage(run_dir: Path, folders: dict[str, Path], corpus: str, max_chars, max_tokens: int) -> list:
    """Body lengths in tokens (median, 90th percentile, largest) of the real training circuits the
    model learned and of each generated set, and the share of generated circuits stopped by
    ``max_tokens`` (within one line of it): is the generation cap what makes them shorter?"""
    import numpy as np

    from qml.generators.lm_task import read_corpus_texts
    from qml.generators.qasm_text import split_header
    from qml.generators.tokenizer import QasmTokenizer

    tok = QasmTokenizer.load(run_dir / "tokenizer.json")

    def body_lengths(texts):
        return np.array([len(tok.encode(split_header(t)[1])) for t in texts])

    rows = []
    real = [t for t, _ in read_corpus_texts(corpus, max_chars=max_chars)["train"]]
    groups = {"real (training circuits)": body_lengths(real)}
    groups.update(
        {k: body_lengths([p.read_text() for p in sorted(f.glob("*.qasm"))]) for k, f in folders.items()}
    )
    for name, n in groups.items():
        rows.append(
            {
                "set": name,
                "median": round(float(np.median(n)), 1),
                "p90": round(float(np.percentile(n, 90)), 1),
                "max": int(n.max()),
                "over_max_tokens": round(float((n > max_tokens).mean()), 4),
                "at_cap": None if name.startswith("real") else round(float((n >= max_tokens - 8).mean()), 4),
            }
        )
    return rows


def checks(result: dict) -> dict:
    """The issue's targets, each True or False as measured, for each generated set."""
    sets = result["sets"]
    r = sets[RANDOM]
    out = {}
    for name in GENERATED:
        if name not in sets:
            continue
        k = sets[name]
        structure = k.get("structure") or {}
        closer = structure.get("closer_than_random", [])
        compared = [
            m for m in structure.get("metrics", []) if m not in structure.get("matched_by_construction", [])
        ]
        out[f"{name}: valid >= 99 %"] = k["valid_fraction"] >= TARGETS["valid"]
        out[f"{name}: classifier calls >= 90 % of its circuits real"] = (
            k.get("called_real_fraction", 0) >= TARGETS["called_real"]
        )
        tally = f"{len(closer)} of {len(compared)}"
        out[f"{name}: every structural distance to real smaller than random's ({tally})"] = bool(
            compared
        ) and len(closer) == len(compared)
    out["classifier calls <= 10 % of random circuits real"] = (
        r.get("called_real_fraction", 1) <= TARGETS["random_called_real"]
    )
    return out


def tables(result: dict) -> tuple[list[dict], list[dict]]:
    """Flat records: the folds and novelty per set, and the structural distances per set."""
    entries, structure = [], []
    for name, s in result["sets"].items():
        nov = s.get("novelty") or {}
        entries.append(
            {
                "set": name,
                "circuits": s["n_files"],
                "valid": round(s["valid_fraction"], 4),
                "called_real": round(s.get("called_real_fraction", float("nan")), 4),
                "exact_copies": round(nov.get("exact_copy_fraction", float("nan")), 4),
                "near_copies": round(nov.get("near_copy_fraction", float("nan")), 4),
                "mean_best_similarity": round(nov.get("mean_best_similarity", float("nan")), 4),
            }
        )
        st = s.get("structure")
        if st:
            key = f"{s['label']}_to_real"
            structure.append({"set": name, **{m: round(st[key][m], 4) for m in st["metrics"]}})
            if "random_to_real" in st and name in GENERATED:
                structure.append(
                    {
                        "set": f"random matched to {name}",
                        **{m: round(st["random_to_real"][m], 4) for m in st["metrics"]},
                    }
                )
    return entries, structure


def _epochs(model: dict) -> str:
    if model["planned_epochs"] != model["epochs"]:
        return (
            f"{model['epochs']} of {model['planned_epochs']} planned epochs (stopped for time; best "
            f"epoch {model['best_epoch']})"
        )
    return f"{model['epochs']} epochs"


def markdown(summary: dict) -> list[str]:
    lines = ["# KetGPT reproduction (arXiv 2402.13352)", "", f"Status: **{summary['status']}**.", ""]
    model = summary.get("model")
    if model:
        lines += [
            f"Model: GPT-2 {model['shape']}, {model['n_parameters']} parameters, vocabulary "
            f"{model['vocab_size']}; {_epochs(model)} ({model['seconds_per_epoch']:.0f} s/epoch) on "
            f"{model['train_circuits']} training circuits (up to {summary['max_chars']} characters); "
            f"test perplexity {model['test_perplexity']:.3f} on {model['test_circuits']} circuits of unseen "
            "(family, size).",
            "",
        ]
    held = summary.get("classifier")
    if held:
        lines += [
            f"Real-vs-random classifier (tiny BERT over gate tokens, {held['n_train']} training circuits): "
            f"held-out accuracy {held['accuracy']:.3f}, AUC {held['auc']:.3f} on {held['n_real']} real and "
            f"{held['n_random']} matched random test circuits.",
            "",
        ]
    if summary.get("entries"):
        keys = list(summary["entries"][0])
        lines += markdown_table(
            [k.replace("_", " ") for k in keys], [[e[k] for k in keys] for e in summary["entries"]]
        )
        lines += [
            "",
            "Structural Wasserstein distance to the real training circuits the model learned (the "
            f"{summary.get('n_reference', '?')} whose canonical text is "
            + (f"up to {summary['max_chars']} characters; " if summary["max_chars"] else "any length; ")
            + "units of their std; qubits and gates of the random sets are matched by construction). The "
            f"held-out real set is cut the same way ({summary['entries'][-2]['circuits']} of "
            f"{summary.get('n_test_all', '?')} test circuits).",
            "",
        ]
        keys = list(summary["structure"][0])
        lines += markdown_table(
            [k.replace("_", " ") for k in keys], [[e[k] for k in keys] for e in summary["structure"]]
        )
        lines += ["", "Targets of the issue:", ""]
        lines += [f"- {'met' if ok else 'NOT met'}: {name}" for name, ok in summary["checks"].items()]
    if summary.get("lengths"):
        lines += [
            "",
            f"Circuit length (body tokens; generation stops at {summary['sampling']['max_new_tokens']}):",
            "",
        ]
        keys = list(summary["lengths"][0])
        lines += markdown_table(
            [k.replace("_", " ") for k in keys], [[e[k] for k in keys] for e in summary["lengths"]]
        )
    gen = summary.get("generation")
    if gen:
        lines += ["", "Generation (one model, prompts and sampling settings; shared machine):", ""]
        lines += markdown_table(
            ["set", "circuits", "seconds", "seconds per circuit"],
            [[k, g["n"], g["seconds"], g["seconds_per_circuit"]] for k, g in gen.items()],
        )
    lines += ["", f"Command: `{summary['command']}`", ""]
    if summary.get("notes"):
        lines += ["Notes:", ""] + [f"- {n}" for n in summary["notes"]] + [""]
    if len(summary.get("commands", [])) > 1:
        lines += ["Every invocation on this work folder (stages resume):", ""]
        lines += [f"- `{c}`" for c in summary["commands"]] + [""]
    return lines


def _all_but_first(k: int):
    """``shutil.copytree`` ignore function keeping the first ``k`` .qasm files (a sample to read)."""

    def ignore(folder, names):
        keep = sorted(n for n in names if n.endswith(".qasm"))[:k]
        return [n for n in names if n not in keep]

    return ignore


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    add_out(parser)
    add_quick(parser, "the quick corpus, a tiny model, 40 circuits")
    parser.add_argument(
        "--work", type=Path, default=None, help="folder of the run and the generated circuits"
    )
    parser.add_argument("--n", type=int, default=None, help="circuits to generate (default 1000, quick 40)")
    parser.add_argument("--note", action="append", default=[], help="a line for the results' notes")
    parser.add_argument(
        "--n-constrained", type=int, default=None, help="circuits of the constrained set (default --n)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the model's)")
    parser.add_argument("--batch-size", type=int, default=None, help="training batch (default: the model's)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: the model's)")
    parser.add_argument(
        "--chunking",
        default="pinned",
        choices=("pinned", "stream"),
        help="training blocks: each piece under its circuit's header (pinned) or one stream",
    )
    parser.add_argument("--size", default="small", help="model size: tiny, small, paper")
    parser.add_argument("--layers", type=int, default=None, help="GPT-2 layers (default: the size's)")
    parser.add_argument("--width", type=int, default=None, help="GPT-2 embedding width (default: the size's)")
    parser.add_argument("--heads", type=int, default=None, help="GPT-2 attention heads (default: the size's)")
    parser.add_argument("--device", default="cpu", help="torch device of training and generation (cpu, cuda)")
    parser.add_argument(
        "--prepared",
        type=Path,
        default=None,
        help="file of the task's loaded data (tokenizer, blocks, grammar masks): read when it exists,"
        " else written (prepare on one machine, train on another)",
    )
    parser.add_argument(
        "--index-tokens", action="store_true", help="every register index its own token (see train_tokenizer)"
    )
    parser.add_argument(
        "--angle-tokens", action="store_true", help="every gate angle its own token (see train_tokenizer)"
    )
    parser.add_argument(
        "--grammar-weight",
        type=float,
        default=0.0,
        help="weight of the grammar term in training: -log P(tokens the canonical OpenQASM 2 grammar"
        " allows under each block's header) at every position (qml.generators.grammar_loss); sampling"
        " stays unconstrained",
    )
    parser.add_argument("--max-chars", type=int, default=8000, help="longest training circuit, in characters")
    parser.add_argument("--block", type=int, default=512, help="context (tokens) of the model")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=50, help="circuits sampled at once")
    parser.add_argument(
        "--validity-engine", default="torch", help="ketml engine of the state-vector check (fold 1)"
    )
    parser.add_argument(
        "--use-generated",
        action="store_true",
        help="verify the circuits generated so far, even if fewer than --n (time budget; labelled partial)",
    )
    parser.add_argument(
        "--train-seconds",
        type=float,
        default=None,
        help="stop training after this many seconds and keep the best epoch so far (time budget)",
    )
    parser.add_argument(
        "--finish-now", action="store_true", help="stop training at the best checkpoint so far (time budget)"
    )
    parser.add_argument(
        "--stage",
        choices=("prepare", "train", "generate", "verify"),
        default="verify",
        help="stop after (prepare: only write the --prepared file)",
    )
    args = parser.parse_args(argv)
    from data.cache import data_home
    from qml.training.optim import TrainingInterrupted

    quick = args.quick
    work = args.work or data_home() / ("repro_ketgpt_quick" if quick else "repro_ketgpt")
    n = args.n or (40 if quick else 1000)
    name = "repro_ketgpt_quick" if quick else "repro_ketgpt"
    out = args.out / name
    out.mkdir(parents=True, exist_ok=True)
    corpus = "algorithm-circuits-quick" if quick else "algorithm-circuits"
    summary: dict = {
        "machine": machine_summary("torch", "transformers", "tokenizers", "qiskit", "mqt.bench"),
        "corpus": corpus,
        "max_chars": None if quick else args.max_chars,
        "n_generate": n,
        "sampling": {"temperature": args.temperature, "top_k": args.top_k, "max_new_tokens": args.max_tokens},
        "command": launch_command("benchmarks/repro_ketgpt.py", argv if argv is not None else sys.argv[1:]),
        "quick": quick,
        "notes": args.note,
        "status": "partial: training",
    }
    work.mkdir(parents=True, exist_ok=True)
    history_file = work / "commands.json"
    commands = json.loads(history_file.read_text()) if history_file.is_file() else []
    commands.append(summary["command"])
    history_file.write_text(json.dumps(commands, indent=1))
    summary["commands"] = commands
    start = time.perf_counter()
    if args.finish_now:
        finish_from_checkpoint(work, args.prepared)
    if args.stage == "prepare":
        if args.prepared is None:
            parser.error("--stage prepare needs --prepared FILE")
        train_stage(work, quick, args)
        print(f"prepared: {args.prepared}", flush=True)
        return 0
    try:
        with deadline(args.train_seconds):
            run_dir = train_stage(work, quick, args)
    except (StepTimeout, TrainingInterrupted) as exc:
        if isinstance(exc, TrainingInterrupted) and not is_timeout(exc):
            raise
        print(f"training: stopped after --train-seconds {args.train_seconds}", flush=True)
        run_dir = finish_from_checkpoint(work, args.prepared)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    summary["model"] = {
        "shape": metrics["model_shape"],
        "n_parameters": metrics["n_parameters"],
        "vocab_size": metrics["vocab_size"],
        "epochs": metrics["epochs"],
        "planned_epochs": metrics.get("planned_epochs", metrics["epochs"]),
        "best_epoch": metrics.get("best_epoch"),
        "seconds_per_epoch": metrics["seconds_per_epoch"],
        "train_circuits": metrics["n_circuits"]["train"],
        "test_circuits": metrics["n_circuits"]["test"],
        "test_loss": metrics["test_loss"],
        "test_perplexity": metrics["test_perplexity"],
    }
    details: dict = {"history": {k: metrics["history"][k] for k in ("train_loss", "val_loss")}}
    shutil.copy(run_dir / "curves.png", out / "training_curve.png")
    summary["status"] = "partial: trained, not generated"
    if args.stage != "train":
        wanted = {k: n if k == "ketgpt" else (args.n_constrained or n) for k in GENERATED}
        folders = {k: generate_stage(run_dir, work, wanted[k], args, k) for k in GENERATED}
        summary["generation"] = {}
        for key, folder in folders.items():
            generation = json.loads((folder / "generation.json").read_text())
            summary["generation"][key] = {
                "n": generation["n"],
                "requested": wanted[key],
                "seconds": round(generation["seconds"], 1),
                "seconds_per_circuit": round(generation["seconds"] / max(generation["n"], 1), 3),
            }
        summary["status"] = "partial: generated, not verified"
        if args.stage == "verify":
            summary["lengths"] = length_stage(
                run_dir, folders, corpus, None if quick else args.max_chars, args.max_tokens
            )
            result = verify_stage(
                folders, corpus, out, work, quick, args.validity_engine, None if quick else args.max_chars
            )
            summary["n_reference"] = result["n_reference"]
            summary["n_test_all"] = result["n_test_all"]
            summary["validity_engine"] = args.validity_engine
            summary["classifier"] = result["classifier"]["classifier_heldout"]
            summary["entries"], summary["structure"] = tables(result)
            summary["checks"] = checks(result)
            gens = summary["generation"].items()
            fewer = [f"{k}: {g['n']} circuits" for k, g in gens if g["n"] < n]
            summary["status"] = "complete" + (f" ({', '.join(fewer)}, as asked)" if fewer else "")
            short = [f"{k}: {g['n']} of {g['requested']}" for k, g in gens if g["n"] < g["requested"]]
            if short:
                summary["status"] = f"partial: {', '.join(short)} circuits generated (time budget)"
            details["verification"] = result
            for key, folder in folders.items():
                sample = out / f"generated_sample_{key.replace(' ', '_')}"
                shutil.copytree(folder, sample, dirs_exist_ok=True, ignore=_all_but_first(20))
    (out / "details.json").write_text(json.dumps(details, indent=1, default=str))
    summary["seconds"] = time.perf_counter() - start
    write_results(args.out, name, summary, markdown(summary))
    print("\n".join(markdown(summary)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
