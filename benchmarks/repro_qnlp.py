"""QNLP with lambeq diagrams (issue 18): ketml's functor + torch engine beside lambeq's own models.

Same diagrams (rule-based pregroup parse, ``RemoveCupsRewriter``), same ansatz (IQP, n:1 s:1,
1 layer), one process, 10 seeds, mean and std:

* MC: ketml ``qnlp`` (shared trainer, Adam lr 0.1, batch 10, 30 epochs, best epoch by dev
  accuracy) against lambeq ``NumpyModel(use_jit=True)`` + ``QuantumTrainer`` (SPSA a=0.2,
  c=0.06, A=0.01*120; batch 30, 120 epochs; the quantum-pipeline-jax notebook) and
  ``PennyLaneModel`` + ``PytorchTrainer`` (Adam lr 0.1, MSE, batch 10, 30 epochs; the
  pennylane notebook). Test accuracy, training seconds and seconds per epoch (training only).
* RP: ketml ``qnlp`` (30 epochs, best by training accuracy: RP has no dev split) and lambeq
  ``NumpyModel`` (SPSA a=0.05, c=0.06, A=0.001*100, batch 10, 100 epochs); test accuracy.
* DisCoCirc MC: ketml ``qnlp`` on the rule-based DisCoCirc reading (not lambeq's
  DisCoCircReader; see qml/qnlp/discocirc.py): test accuracy and wall time.
* The trained MC model (seed 0) on Aer with 8192 shots and on IBM's noisy fake backend
  (``ibm`` engine, local testing mode): accuracy against the exact simulation.
* The functor's circuits against lambeq's ``Diagram.eval`` on every MC and RP diagram.

    KETML_DATA=../shared/data OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/repro_qnlp.py
    (--quick: 2 seeds, fewer epochs; finished entries in benchmarks/results/repro_qnlp/ are reused)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    EntryStore,
    add_out,
    add_quick,
    log,
    machine_summary,
    markdown_table,
    new_parser,
    package_version,
    run_main,
    write_results,
)

SETTINGS = {"reader": "pregroup", "ansatz": "iqp", "layers": 1, "rewriters": "remove-cups"}
FAKE_BACKEND = "fake_manila"


def _mean_sd(values):
    return [float(np.mean(values)), float(np.std(values))]


def _corpus(name):
    from data.sentences import load_sentences

    splits = ("train", "dev", "test") if name != "lambeq-rp" else ("train", "test")
    return {s: load_sentences(name, s) for s in splits}


def ours(dataset, seed, epochs, options=None):
    from qml.training.experiment import train

    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        run_dir, m = train(
            "qnlp",
            dataset,
            out=Path(out),
            seed=seed,
            progress=False,
            epochs=epochs,
            model_options=dict(options or SETTINGS),
        )
        wall = time.perf_counter() - t0
    seconds = m["history"]["seconds"]
    return {
        "test_accuracy": m["test_accuracy"],
        "train_seconds": float(sum(seconds)),
        "seconds_per_epoch": m["seconds_per_epoch"],
        "epochs": len(seconds),
        "best_epoch": m.get("best_epoch"),
        "wall_seconds": wall,
        "n_parameters": m["n_parameters"],
    }


def _lambeq_circuits(name, target):
    from qml.qnlp.ansatz import FunctorSettings

    settings = FunctorSettings(ansatz="iqp", layers=1, rewriters=("remove-cups",), target=target)
    rows = _corpus(name)
    return {
        s: ([settings.quantum(t) for _, t in r], [[1 - lab, lab] for lab, _ in r]) for s, r in rows.items()
    }


def _accuracy(y_hat, y):
    y_hat, y = np.asarray(y_hat, dtype=float), np.asarray(y, dtype=float)
    return float(np.mean(np.argmax(y_hat, axis=1) == np.argmax(y, axis=1)))


def lambeq_numpy(circuits, seed, epochs, batch, a, A_frac):
    """lambeq NumpyModel (jit) + QuantumTrainer with SPSA; labels as one-hot [1-t, t]."""
    from lambeq import BinaryCrossEntropyLoss, Dataset, NumpyModel, QuantumTrainer, SPSAOptimizer

    everything = [c for cs, _ in circuits.values() for c in cs]
    model = NumpyModel.from_diagrams(everything, use_jit=True)
    train_c, train_y = circuits["train"]
    with tempfile.TemporaryDirectory() as logdir:
        trainer = QuantumTrainer(
            model,
            loss_function=BinaryCrossEntropyLoss(use_jax=True),
            epochs=epochs,
            optimizer=SPSAOptimizer,
            optim_hyperparams={"a": a, "c": 0.06, "A": A_frac * epochs},
            evaluate_on_train=False,
            verbose="suppress",
            seed=seed,
            log_dir=logdir,
        )
        t0 = time.perf_counter()
        trainer.fit(Dataset(train_c, train_y, batch_size=batch, shuffle=True))
        seconds = time.perf_counter() - t0
    test_c, test_y = circuits["test"]
    return {
        "test_accuracy": _accuracy(model(test_c), test_y),
        "train_seconds": seconds,
        "seconds_per_epoch": seconds / epochs,
        "epochs": epochs,
    }


def lambeq_pennylane(circuits, seed, epochs):
    """lambeq PennyLaneModel (default.qubit, probabilities, normalised) + PytorchTrainer, MSE."""
    import torch
    from lambeq import Dataset, PennyLaneModel, PytorchTrainer

    torch.manual_seed(seed)
    everything = [c for cs, _ in circuits.values() for c in cs]
    model = PennyLaneModel.from_diagrams(
        everything, probabilities=True, normalize=True, backend_config={"backend": "default.qubit"}
    )
    model.initialise_weights()
    train_c, train_y = circuits["train"]
    with tempfile.TemporaryDirectory() as logdir:
        trainer = PytorchTrainer(
            model=model,
            loss_function=torch.nn.MSELoss(),
            optimizer=torch.optim.Adam,
            learning_rate=0.1,
            epochs=epochs,
            evaluate_on_train=False,
            use_tensorboard=False,
            verbose="suppress",
            seed=seed,
            log_dir=logdir,
        )
        t0 = time.perf_counter()
        trainer.fit(Dataset(train_c, train_y, batch_size=10, shuffle=True))
        seconds = time.perf_counter() - t0
    test_c, test_y = circuits["test"]
    with torch.no_grad():
        pred = model(test_c).detach().numpy()
    return {
        "test_accuracy": _accuracy(pred, test_y),
        "train_seconds": seconds,
        "seconds_per_epoch": seconds / epochs,
        "epochs": epochs,
    }


def hardware(epochs):
    """The seed-0 MC model: exact, Aer 8192 shots, and IBM fake backend (noisy), test accuracy."""
    from qml.qnlp.shots import shot_probabilities
    from qml.training.experiment import load_trained, train

    with tempfile.TemporaryDirectory() as out:
        run_dir, _ = train(
            "qnlp", "mc", out=Path(out), seed=0, progress=False, epochs=epochs, model_options=dict(SETTINGS)
        )
        model, _ = load_trained(run_dir)
    test = _corpus("lambeq-mc")["test"]
    texts, labels = [t for _, t in test], np.array([lab for lab, _ in test])
    exact = model.predict_proba(texts).numpy()
    out = {"n_test": len(texts), "exact_accuracy": float(np.mean(exact.argmax(1) == labels))}
    for key, opts in (
        ("aer_8192_shots", {"engine": "aer"}),
        (f"ibm_{FAKE_BACKEND}_noisy_4096_shots", {"engine": "ibm", "backend": FAKE_BACKEND}),
    ):
        shots = 4096 if key.startswith("ibm") else 8192
        t0 = time.perf_counter()
        probs, kept = shot_probabilities(model, texts, shots=shots, seed=1, **opts)
        p = probs.numpy()
        out[key] = {
            "accuracy": float(np.mean(p.argmax(1) == labels)),
            "max_abs_prob_diff_vs_exact": float(np.abs(p - exact).max()),
            "mean_postselection_kept": float(kept.mean()),
            "seconds": time.perf_counter() - t0,
        }
    return out


def functor_agreement():
    """Max |ours - lambeq Diagram.eval| of normalised output probabilities, every MC and RP diagram."""
    import torch

    from circuits import statevector
    from qml.qnlp.ansatz import FunctorSettings
    from qml.qnlp.functor import convert
    from qml.qnlp.model import output_marginal

    rng = np.random.default_rng(0)
    worst, count = 0.0, 0
    for name, target in (("lambeq-mc", "s"), ("lambeq-rp", "n")):
        for ansatz in ("iqp", "sel"):
            settings = FunctorSettings(ansatz=ansatz, layers=1, rewriters=(), target=target)
            for rows in _corpus(name).values():
                for _, text in rows:
                    c = settings.quantum(text)
                    symbols = sorted(c.free_symbols, key=lambda x: x.name)
                    vals = rng.uniform(size=len(symbols))
                    amp = np.abs(np.asarray(c.lambdify(*symbols)(*vals).eval()).reshape(-1)) ** 2
                    conv = convert(c)
                    lookup = {x.name: v for x, v in zip(symbols, vals, strict=True)}
                    w = torch.tensor([[lookup[s] for s in conv.symbols]], dtype=torch.float64)
                    state = statevector(conv.shape.template, {"w": w}, dtype="complex128")
                    p = output_marginal(state, conv.shape.n_qubits, conv.shape.outputs[0])[0].numpy()
                    worst = max(worst, float(np.abs(p - amp / amp.sum()).max()))
                    count += 1
    return {"diagrams": count, "max_abs_diff": worst}


STORED_ONLY = False


def _run(store, key, fn, *args, **kwargs):
    if store.has(key):
        return store.load(key)
    if STORED_ONLY:
        return None
    log(f"{key} ...")
    result = fn(*args, **kwargs)
    store.save(key, result)
    log(f"{key}: {result}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    add_out(parser)
    add_quick(parser, "2 seeds, 10 epochs (ours, PennyLane), 30 (SPSA)")
    parser.add_argument(
        "--skip", nargs="*", default=[], help="parts to leave out: mc rp discocirc hardware pennylane"
    )
    parser.add_argument("--seeds", type=int, default=10, help="seeds of each model (default 10)")
    parser.add_argument(
        "--peer-seeds", type=int, default=None, help="seeds of lambeq's models (default: --seeds)"
    )
    parser.add_argument(
        "--stored-only", action="store_true", help="write the results from the finished entries only"
    )
    args = parser.parse_args(argv)
    global STORED_ONLY
    STORED_ONLY = args.stored_only
    seeds = [0, 1] if args.quick else list(range(args.seeds))
    peer_seeds = seeds[: args.peer_seeds] if args.peer_seeds else seeds
    ep = lambda full, quick: quick if args.quick else full  # noqa: E731
    store = EntryStore(args.out / ("repro_qnlp_quick" if args.quick else "repro_qnlp"))
    start = time.perf_counter()
    results: dict = {"machine": machine_summary(), "seeds": seeds, "quick": args.quick, "settings": SETTINGS}
    results["command"] = (
        "KETML_DATA=../shared/data OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python "
        + " ".join(["benchmarks/repro_qnlp.py", *(argv if argv is not None else sys.argv[1:])])
    )
    results["versions"] = {
        p: package_version(p) for p in ("lambeq", "jax", "pennylane", "torch", "qiskit-aer")
    }
    dc_options = {"reader": "discocirc", "ansatz": "sel", "layers": 2, "rewriters": "none", "readout": "mean"}
    dc_seeds = seeds[: 3 if not args.quick else 1]
    parts = [p for p in ("mc", "hardware", "discocirc", "rp") if p not in args.skip]
    circuits = {}

    def circuits_of(name, target):
        if name not in circuits:
            circuits[name] = _lambeq_circuits(name, target)
        return circuits[name]

    # the jobs, most wanted first; each finished one is stored, so a cut run keeps what it did
    jobs = []
    mc_args = lambda s: (circuits_of("lambeq-mc", "s"), s, ep(120, 30), 30, 0.2, 0.01)  # noqa: E731
    pl_args = lambda s: (circuits_of("lambeq-mc", "s"), s, ep(30, 10))  # noqa: E731
    rp_args = lambda s: (circuits_of("lambeq-rp", "n"), s, ep(100, 30), 10, 0.05, 0.001)  # noqa: E731
    if "mc" in parts:
        jobs += [(f"mc-ours-{s}", ours, ("mc", s, ep(30, 10))) for s in seeds]
        jobs += [(f"mc-numpy-{s}", lambeq_numpy, mc_args) for s in peer_seeds]
    if "hardware" in parts:
        jobs.append(("hardware", hardware, (ep(30, 10),)))
    if "rp" in parts:
        jobs += [(f"rp-ours-{s}", ours, ("rp", s, ep(30, 10))) for s in seeds]
    if "discocirc" in parts:
        jobs += [(f"dc-ours-{s}", ours, ("discocirc-mc", s, ep(20, 3), dc_options)) for s in dc_seeds]
    if "mc" in parts and "pennylane" not in args.skip:
        jobs += [(f"mc-pennylane-{s}", lambeq_pennylane, pl_args) for s in peer_seeds]
    if "rp" in parts:
        jobs += [(f"rp-numpy-{s}", lambeq_numpy, rp_args) for s in peer_seeds]
    jobs.append(("functor", functor_agreement, ()))
    for key, fn, fargs in jobs:
        if not store.has(key) and not STORED_ONLY:
            seed = int(key.rsplit("-", 1)[1]) if key[-1].isdigit() else None
            _run(store, key, fn, *(fargs(seed) if callable(fargs) else fargs))

    def done(prefix, seed_list):
        return [store.load(f"{prefix}-{s}") for s in seed_list if store.has(f"{prefix}-{s}")]

    results["functor_vs_lambeq_eval"] = store.load("functor") if store.has("functor") else None
    if "mc" in parts:
        results["mc"] = {
            "ketml qnlp (torch engine, Adam)": done("mc-ours", seeds),
            "lambeq NumpyModel jit (SPSA)": done("mc-numpy", peer_seeds),
            "lambeq PennyLaneModel (Adam)": done("mc-pennylane", peer_seeds),
        }
    if "rp" in parts:
        results["rp"] = {
            "ketml qnlp (torch engine, Adam)": done("rp-ours", seeds),
            "lambeq NumpyModel jit (SPSA)": done("rp-numpy", peer_seeds),
        }
    if "discocirc" in parts:
        results["discocirc_settings"] = dc_options
        results["discocirc"] = {"ketml qnlp, rule-based DisCoCirc reading": done("dc-ours", dc_seeds)}
    if "hardware" in parts and store.has("hardware"):
        results["hardware"] = store.load("hardware")
    for key in ("mc", "rp", "discocirc"):
        if key in results:
            results[key] = {name: rows for name, rows in results[key].items() if rows}
    results["summary"] = summary(results)
    results["peer_seeds"] = len(peer_seeds)
    results["per_seed_entries"] = (
        str(store.folder.relative_to(ROOT)) if store.folder.is_relative_to(ROOT) else str(store.folder)
    )
    results["seconds"] = time.perf_counter() - start
    markdown = report(results, args.quick)
    for key in ("mc", "rp", "discocirc"):  # per-seed records stay in the entry folder
        results.pop(key, None)
    results["seconds"] = time.perf_counter() - start
    write_results(args.out, "repro_qnlp_quick" if args.quick else "repro_qnlp", results, markdown)
    return 0


def summary(r):
    """One record per dataset and model: accuracy mean/sd (and the per-seed list) and timing."""
    out = []
    for key, title in (("mc", "MC"), ("rp", "RP"), ("discocirc", "DisCoCirc MC")):
        for name, entries in r.get(key, {}).items():
            acc, per_epoch, total = _summary(entries)
            out.append(
                {
                    "dataset": title,
                    "model": name,
                    "seeds": len(entries),
                    "epochs": entries[0]["epochs"],
                    "test_accuracy": acc[0],
                    "test_accuracy_sd": acc[1],
                    "seconds_per_epoch": per_epoch[0],
                    "train_seconds": total[0],
                    "per_seed_accuracy": [round(e["test_accuracy"], 4) for e in entries],
                }
            )
    return out


def _summary(entries):
    acc = _mean_sd([e["test_accuracy"] for e in entries])
    per_epoch = _mean_sd([e["seconds_per_epoch"] for e in entries])
    total = _mean_sd([e["train_seconds"] for e in entries])
    return acc, per_epoch, total


def report(r, quick):
    fmt = lambda ms, d=3: f"{ms[0]:.{d}f} ± {ms[1]:.{d}f}"  # noqa: E731
    lines = [
        "# QNLP: lambeq diagrams on ketml's torch engine beside lambeq's models (issue 18)",
        "",
        f"Seeds {r['seeds']}; same diagrams (rule-based pregroup parse + RemoveCupsRewriter), same "
        "ansatz (IQP, n:1 s:1, 1 layer). Times are training only (no evaluation), one CPU thread "
        "on a shared machine; mean ± sd.",
        f"Command: `{r['command']}` (lambeq's models: the first {r.get('peer_seeds', '')} seeds; per-seed "
        f"records in `{r.get('per_seed_entries', '')}/`).",
        "",
    ]
    f = r.get("functor_vs_lambeq_eval")
    lines += [
        (
            f"Functor check: {f['diagrams']} diagrams (every MC and RP diagram, IQP and strongly "
            f"entangling ansatz, cups kept), max |ours − lambeq Diagram.eval| = {f['max_abs_diff']:.2e}."
            if f
            else "Functor check: not run here (tests/qnlp/test_functor.py checks every MC and RP diagram)."
        ),
        "",
    ]
    for key, title in (("mc", "MC (test, 30 sentences)"), ("rp", "RP (test, 31 phrases)")):
        if key not in r:
            continue
        lines += [f"## {title}", ""]
        rows = []
        for name, entries in r[key].items():
            acc, per_epoch, total = _summary(entries)
            rows.append(
                [name, len(entries), entries[0]["epochs"], fmt(acc), fmt(per_epoch, 4), fmt(total, 2)]
            )
        lines += markdown_table(
            ["model", "seeds", "epochs", "test accuracy", "s / epoch", "training s"], rows
        )
        if key == "rp":
            lines += [
                "",
                "The pregroup parse gives the relative pronoun its subject or object type, which is "
                "what RP's label asks (Bobcat's parse does the same); lambeq's own figure, 0.742, is "
                "TketModel on Aer with shots and SPSA.",
            ]
        lines.append("")
    if "discocirc" in r:
        lines += ["## DisCoCirc MC (test, 60 texts; rule-based reading, not lambeq's DisCoCircReader)", ""]
        rows = []
        for name, entries in r["discocirc"].items():
            acc, per_epoch, total = _summary(entries)
            wall = _mean_sd([e["wall_seconds"] for e in entries])
            rows.append([name, len(entries), fmt(acc), fmt(total, 1), fmt(wall, 1)])
        lines += markdown_table(
            ["model", "seeds", "test accuracy", "training s", "wall s (with parsing)"], rows
        )
        lines += ["", f"Settings: {r['discocirc_settings']}", ""]
    if "hardware" in r:
        h = r["hardware"]
        lines += ["## The trained MC model on shots and noise (seed 0)", ""]
        rows = [["exact (torch engine)", f"{h['exact_accuracy']:.3f}", "", ""]]
        for key, value in h.items():
            if isinstance(value, dict):
                rows.append(
                    [
                        key,
                        f"{value['accuracy']:.3f}",
                        f"{value['max_abs_prob_diff_vs_exact']:.3f}",
                        f"{value['mean_postselection_kept']:.3f}",
                    ]
                )
        lines += markdown_table(["evaluation", "test accuracy", "max abs(p − p_exact)", "shots kept"], rows)
        lines.append("")
    took = "assembled from the stored entries" if STORED_ONLY else f"total {r['seconds']:.0f} s"
    lines.append(f"Run {took}. Machine: {r['machine']}")
    return lines


if __name__ == "__main__":
    sys.exit(run_main(main))
