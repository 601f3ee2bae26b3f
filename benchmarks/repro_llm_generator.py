"""LLM circuit generator study (issue 20; Agent-Q, Jern, Uotila, Yu, Zhao, arXiv 2504.11109).

1. dataset: the paper's problems on small random graphs (node counts that keep the circuits
   within the model's context), each solved by QAOA p = 1, 2, 3 with the paper's optimiser
   settings (Adam lr 0.01, checks every 10 steps, 500 steps, 3 restarts). VQE records (up to
   2,000 Adam steps each) did not fit this machine's share in the time; the VQE and adaptive-VQE
   builds are tested, not studied. Training graphs have seeds ``0..--seeds-1``, held-out graphs
   seeds ``1000..``. Records in the files that are not in this task list are ignored.
   ``--balance`` gives every problem about as many training records (a problem with one size gets
   three times the graphs of a problem with three), built in rounds of seeds so a build stopped
   for time stays balanced.
2. train: ``ketml train llm-circuits`` on the training records (paper prompt, completion-only
   loss, a GPT-2 from scratch with a BPE tokenizer trained on the records), checkpointed every
   epoch and resumed; ``--train-until`` (UTC, HH:MM) finishes from the best epoch so far.
   ``--index-tokens``: every register index is its own token (``cx q[`` ``0`` ``], q[`` ``2``),
   the same token as the qubit count in the prompt, instead of being fused into one token per
   statement; ``--angle-tokens``: every angle is its own piece, so a number's close is one token
   after any digit (``rz(`` ``-0.33`` ``29`` ``) q[3];``) instead of merged with its last digits
   (``benchmarks/llm_number_probe.py``); ``--angle-decimals K``: every answer's angles with exactly
   K decimals, so a number ends after the same digit count; ``--layers``/``--width``/``--block``
   set the model's shape.
3. generate: greedy answers (decoding pinned) to ``--eval`` held-out prompts (stratified over the
   problems; ``--picks FILE``: the instances of an earlier run), unconstrained and grammar-constrained.
4. evaluate: the paper's four metrics (``qiskit_qasm3_import`` validity, optimal most probable
   state, KL base 2 against 1,000 random parameter draws, expectation gap <= 0.2), in the
   paper's table beside the anchors (Agent-Q 3B, Vista).
5. warm start: the generated angles of ``--warm`` held-out circuits against 5 random starts:
   Adam steps (lr 0.05, at most 100) until the energy is within 0.2 of the exact optimum.

Each stage is skipped when its output exists in ``--work`` (default
``$KETML_DATA/repro_llm_generator``), so an interrupted run continues.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/repro_llm_generator.py
    (--quick: two problems, a tiny model, a handful of held-out instances)
"""

from __future__ import annotations

import json
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
    machine_summary,
    new_parser,
    run_main,
    write_results,
)

#: node counts per problem: circuits of at most about 2,000 characters at p = 2
NODES = {
    "maxcut": (4, 5, 6),
    "vertex-cover": (4, 5, 6),
    "min-cut": (4, 5, 6),
    "kclique": (4, 5),
    "community-detection": (4, 5),
    "hypermaxcut": (4, 5, 6),
    "steiner-tree": (5, 6),
    "connected-components": (5, 6, 7),
    "edge-cover": (4, 5),
    "matching": (4, 5),
    "max-flow": (4,),
    "graph-coloring": (2, 3),
    "graph-isomorphism": (3,),
    "hamiltonian-path": (3,),
}
QUICK_NODES = {"maxcut": (4, 5), "vertex-cover": (4,)}
HELD_OUT_SEED = 1000


def methods():
    from qml.generators.llm import Method

    return [Method("qaoa", 1), Method("qaoa", 2), Method("qaoa", 3)]


def seeds_of(name: str, problem: str, nodes: dict, args) -> range:
    """The graph seeds of ``problem`` in the ``name`` ("train" or "test") set. With ``--balance`` a
    problem with fewer sizes gets more training graphs (``--seeds`` times the most sizes of any
    problem, over its own sizes), so every problem has about as many training records."""
    if name == "test":
        return range(HELD_OUT_SEED, HELD_OUT_SEED + args.held_out_seeds)
    if not getattr(args, "balance", False):
        return range(args.seeds)
    most = max(len(ns) for ns in nodes.values())
    return range(-(-args.seeds * most // len(nodes[problem])))


def task_list(name: str, nodes: dict, args) -> list:
    """The dataset tasks of the ``name`` set, in a fixed order."""
    from qml.generators.llm import tasks

    return [t for p, ns in nodes.items() for t in tasks([p], ns, seeds_of(name, p, nodes, args), methods())]


def seed_rounds(todo: list, width: int = 6) -> list[list]:
    """``todo`` cut into rounds of ``width`` consecutive seeds (every problem in each round)."""
    rounds: dict[int, list] = {}
    for t in todo:
        rounds.setdefault((t.seed % HELD_OUT_SEED) // width, []).append(t)
    return [rounds[k] for k in sorted(rounds)]


class _Deadline(Exception):
    """The dataset build ran into its ``--dataset-until`` time."""


def _until(clock: str | None) -> float | None:
    """``HH:MM`` (UTC, today) as a Unix time, or None."""
    if not clock:
        return None
    import datetime as dt

    h, m = (int(x) for x in clock.split(":"))
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(hour=h, minute=m, second=0, microsecond=0).timestamp()


def dataset_stage(work: Path, args) -> tuple[Path, Path, dict]:
    """``test.jsonl`` (held-out graphs, built first) and ``train.jsonl``, built now, resumed or
    found; the training build stops at ``--dataset-until`` (its records so far are used)."""
    from qml.generators.llm import build_dataset

    nodes = QUICK_NODES if args.quick else NODES
    stop = _until(args.dataset_until)
    info = {}
    for name in ("test", "train"):
        todo = task_list(name, nodes, args)
        path = work / f"{name}.jsonl"
        t0 = time.time()

        def check(done, total, name=name):
            if name == "train" and stop is not None and time.time() > stop:
                raise _Deadline(f"{done}/{total} batches")

        if name == "train" and stop is not None and time.time() > stop:
            from qml.generators.llm import read_records

            built = len({r["key"] for r in read_records(path)} & {t.key for t in todo})
            info[name] = {"tasks": len(todo), "complete": built == len(todo), "built": built}
            print(f"dataset {name}: past --dataset-until, {built} of {len(todo)} tasks built", flush=True)
            continue
        try:
            counts: dict = {}
            for part in seed_rounds(todo):  # a build stopped for time stays balanced over the problems
                for k, v in build_dataset(part, path, batch_size=16, progress=True, on_batch=check).items():
                    counts[k] = counts.get(k, 0) + v
            info[name] = {"tasks": len(todo), "complete": True, **counts}
        except _Deadline as exc:
            info[name] = {"tasks": len(todo), "complete": False, "stopped": str(exc)}
        print(f"dataset {name}: {info[name]} in {time.time() - t0:.0f} s", flush=True)
    return work / "train.jsonl", work / "test.jsonl", info


ANCHORS = {
    "Agent-Q 3B (paper, out)": {
        "samples": 580,
        "valid_rate": 0.895,
        "correct_state_rate": 34 / 580,
        "kl_generated": 13.46,
        "kl_random": 21.06,
        "kl_ratio": 13.46 / 21.06,
        "expectation_success_rate": 0.217,
    },
    "Vista 4B RL (successor, Pass@1)": {
        "samples": None,
        "valid_rate": 0.9931,
        "correct_state_rate": None,
        "kl_generated": 11.61,
        "kl_random": None,
        "kl_ratio": None,
        "expectation_success_rate": 0.2241,
    },
}
TARGETS = {"valid_unconstrained": 0.99, "valid_constrained": 1.0, "kl_ratio_below": 0.64}


def target_checks(free: dict, constrained: dict) -> dict[str, bool]:
    """Which :data:`TARGETS` the unconstrained and constrained summaries of one decoding meet."""
    return {
        "valid_unconstrained": free["valid_rate"] >= TARGETS["valid_unconstrained"],
        "valid_constrained": constrained["valid_rate"] >= TARGETS["valid_constrained"],
        "kl_ratio_below": free["kl_ratio"] < TARGETS["kl_ratio_below"],
    }


def _filtered(path: Path, keys: set[str], out: Path) -> list[dict]:
    """The records of ``path`` whose key is in ``keys``, also written to ``out``."""
    from qml.generators.llm import read_records

    recs = [r for r in read_records(path) if r["key"] in keys]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return recs


def train_stage(work: Path, train_path: Path, args) -> Path:
    """The finished run folder (trained now, resumed, or found)."""
    from qml.training.experiment import train

    runs = work / "runs"
    found = sorted(runs.glob("llm-circuits-*")) if runs.is_dir() else []
    if found and (found[-1] / "metrics.json").is_file():
        print(f"training: found {found[-1]}", flush=True)
        return found[-1]
    data = str(train_path.parent)
    if found and (found[-1] / "checkpoint.pt").is_file():
        print(f"training: resuming {found[-1]}", flush=True)
        return train(
            None,
            resume=found[-1],
            data_root=data,
            epochs=args.epochs,
            progress=True,
            device=args.device,
            batching=args.batching,
            prepared_file=args.prepared,
        )[0]
    options = (
        {"size": "tiny"}
        if args.quick
        else {
            "size": args.size,
            **({"n_embd": args.width, "n_head": 4} if args.width else {}),
            **({"n_layer": args.layers} if args.layers else {}),
        }
    )
    data_options = (
        {"vocab_size": 600, "block": 256} if args.quick else {"vocab_size": 2000, "block": args.block}
    )
    if args.index_tokens:
        data_options["index_tokens"] = True
    if args.angle_tokens:
        data_options["angle_tokens"] = True
    if args.angle_decimals:
        data_options["angle_decimals"] = args.angle_decimals
    if args.grammar_weight:
        data_options["grammar_weight"] = args.grammar_weight
    run_dir, _ = train(
        "llm-circuits",
        "llm-circuit-records",
        out=runs,
        data_root=data,
        progress=True,
        model_options=options,
        data_options=data_options,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        batching=args.batching,
        device=args.device,
        prepared_file=args.prepared,
        prepare_only=args.stage == "prepare",
    )
    return run_dir


def on_policy_stage(work: Path, train_path: Path, run_dir: Path, args) -> tuple[Path, list[dict]]:
    """``--rounds`` of on-policy corrections (:mod:`qml.generators.llm.on_policy`): each round is a
    run started from the previous one's weights, on ``--rollouts`` of its own greedy answers to
    training prompts (stops and grammar masks) and ``--replay`` reference rows; finished rounds
    are found, not redone. Returns the last round's run and each round's record."""
    from qml.training.experiment import train

    rounds = []
    for k in range(1, args.rounds + 1):
        out = work / "rounds" / f"round{k}"
        found = sorted(out.glob("llm-circuits-*/metrics.json")) if out.is_dir() else []
        if found:
            print(f"on-policy round {k}: found {found[-1].parent}", flush=True)
            next_dir = found[-1].parent
        else:
            if out.is_dir():  # an interrupted round starts again (a round is one short epoch)
                import shutil

                shutil.rmtree(out)
            previous = json.loads((run_dir / "run.json").read_text())
            data_options, model_options = previous["data_options"], previous["model_options"]
            data_options.update(init=str(run_dir), rollouts=args.rollouts, replay=args.replay, rollout_seed=k)
            next_dir, _ = train(
                "llm-circuits",
                "llm-circuit-records",
                out=out,
                data_root=str(train_path.parent),
                progress=True,
                model_options=model_options,
                data_options=data_options,
                epochs=args.round_epochs,
                batch_size=args.batch_size,
                lr=args.round_lr,
                batching=args.batching,
                device=args.device,
            )
        saved = json.loads((next_dir / "run.json").read_text())
        m = json.loads((next_dir / "metrics.json").read_text())
        rounds.append(
            {
                "round": k,
                "run": str(next_dir),
                **{k: v for k, v in saved["on_policy"].items() if k != "keys"},
                "val_perplexity": m.get("val_perplexity"),
                "val_illegal_mass": m.get("val_illegal_mass"),
                "seconds": sum((m.get("history") or {}).get("seconds", [])),
            }
        )
        print(f"on-policy round {k}: {rounds[-1]}", flush=True)
        run_dir = next_dir
    return run_dir, rounds


def finish_from_checkpoint(work: Path, train_path: Path, prepared_file: Path | None = None) -> Path:
    """A run stopped for time (:func:`qml.training.experiment.finish_stopped`): its best weights so
    far become the model, and the task's own finish writes tokenizer.json and metrics.json (marked
    ``stopped_at_epoch``)."""
    from qml.training.experiment import finish_stopped

    run_dir = sorted((work / "runs").glob("llm-circuits-*"))[-1]
    metrics = finish_stopped(run_dir, data_root=str(train_path.parent), prepared_file=prepared_file)
    print(f"training: finished from the checkpoint at epoch {metrics['stopped_at_epoch']}", flush=True)
    return run_dir


def _lineage(run_dir: Path) -> str:
    """How the run in ``run_dir`` was trained, and the runs it continued from, newest first:
    epochs, device, stop for time, on-policy rows (from their files)."""
    steps = []
    while True:
        metrics = json.loads((run_dir / "metrics.json").read_text())
        data = json.loads((run_dir / "run.json").read_text()).get("data_options", {})
        config = metrics.get("config") or {}
        stopped = metrics.get("stopped_at_epoch")
        planned = f" of {metrics.get('planned_epochs')} planned (stopped for time)" if stopped else ""
        rows = (
            f" on {data['rollouts']} of its own answers and {data.get('replay')} reference rows"
            if data.get("rollouts")
            else ""
        )
        steps.append(
            f"{metrics.get('epochs')} epochs{planned}{rows} on {config.get('device', 'cpu')}, batch"
            f" {config.get('batch_size')}, lr {config.get('lr')} ({config.get('scheduler')})"
        )
        if not data.get("init") or not (Path(data["init"]) / "metrics.json").is_file():
            return "; before that ".join(steps)
        run_dir = Path(data["init"])


def held_out(test: list[dict], n: int) -> list[dict]:
    """``n`` held-out records, round-robin over the problems (then sizes and methods), fixed order."""
    from collections import defaultdict

    by: dict[str, list[dict]] = defaultdict(list)
    for r in sorted(test, key=lambda r: r["key"]):
        by[r["problem"]].append(r)
    for k in by:  # spread each problem's picks over its sizes, seeds and methods
        by[k] = by[k][::3] + by[k][1::3] + by[k][2::3]
    out, i = [], 0
    while len(out) < n and any(i < len(v) for v in by.values()):
        out += [v[i] for v in by.values() if i < len(v)][: n - len(out)]
        i += 1
    return out


def generate_stage(
    run_dir: Path, records: list[dict], folder: Path, constrained: bool, decoding: str = "greedy"
) -> Path:
    from qml.generators.llm.generate import generate_texts, load_llm, write_generated

    if (folder / "generation.json").is_file():
        print(f"generation: found {folder}", flush=True)
        return folder
    t0 = time.time()
    gen = load_llm(run_dir)
    texts = generate_texts(gen, records, constrained=constrained, progress=True, decoding=decoding)
    write_generated(
        texts,
        records,
        folder,
        decoding,
        model=str(run_dir),
        constrained=constrained,
        seconds=time.time() - t0,
    )
    print(
        f"generation ({'constrained' if constrained else 'unconstrained'}): {time.time() - t0:.0f} s",
        flush=True,
    )
    return folder


def evaluate_stage(folder: Path, records: list[dict], n_random: int) -> tuple[list[dict], dict]:
    from qml.generators.llm.evaluate import evaluate_folder, summarise, write_report

    report = folder / "evaluation.jsonl"
    if report.is_file():
        rows = [json.loads(line) for line in report.read_text().splitlines()]
    else:
        rows = evaluate_folder(folder, records, n_random=n_random)
        write_report(rows, report)
    return rows, summarise(rows)


def warm_stage(
    folder: Path, records: list[dict], rows: list[dict], n: int, work: Path, suffix: str = ""
) -> dict:
    from qml.generators.llm.warm_start import summarise_warm_starts, warm_start

    path = work / f"warm_start{suffix}.jsonl"
    done = [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
    seen = {d["key"] for d in done}
    usable = [r for r, row in zip(records, rows, strict=True) if "kl_generated" in row][:n]
    from qml.generators.llm.evaluate import file_name

    for r in usable:
        if r["key"] in seen:
            continue
        res = warm_start((folder / file_name(r["key"])).read_text(), r)
        if res is not None:
            with path.open("a") as fh:
                fh.write(json.dumps(res) + "\n")
            done.append(res)
    return summarise_warm_starts(done)


def index_diagnosis(folder: Path, records: list[dict]) -> dict:
    """What the answers do with the register: how many declare the prompt's size, and of the
    answers that index beyond it, per problem, how many stay below the graph's node count (the
    model counting nodes where the problem's qubits are not nodes)."""
    import re

    from qml.generators.llm.evaluate import file_name

    out = {"answers": len(records), "register_as_prompted": 0, "beyond_register": {}, "below_nodes": 0}
    for r in records:
        text = (folder / file_name(r["key"])).read_text()
        declared = re.findall(r"qubit\[(\d+)\]", text)
        out["register_as_prompted"] += declared == [str(r["n_qubits"])]
        used = [int(i) for i in re.findall(r"\bq\[(\d+)\]", text)]
        if used and max(used) >= r["n_qubits"]:
            out["beyond_register"][r["problem"]] = out["beyond_register"].get(r["problem"], 0) + 1
            out["below_nodes"] += max(used) < len(r["graph"]["nodes"])
    return out


def length_diagnosis(folder: Path, records: list[dict], rows: list[dict]) -> dict:
    """Where the answers stop: how many end with ``<eos>`` on a complete line (the text ends with a
    newline) rather than at the context limit, and how many run longer than their reference (more
    than two lines past it), valid and invalid. A model that has not learnt where a circuit ends
    runs on into positions no training answer reaches, where its lines fall apart."""
    from statistics import median

    from qml.generators.llm.evaluate import file_name

    out = {"answers": len(records), "unterminated": 0, "longer": {"valid": 0, "invalid": 0}}
    ratios = []
    for r, row in zip(records, rows, strict=True):
        text = (folder / file_name(r["key"])).read_text()
        out["unterminated"] += bool(text) and not text.endswith("\n")
        lines, ref = text.count("\n"), r["qasm"].count("\n")
        ratios.append(lines / max(ref, 1))
        if lines > ref + 2:
            out["longer"]["valid" if row["valid"] else "invalid"] += 1
    return {**out, "line_ratio": median(ratios) if ratios else None}


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _num(x, digits=2) -> str:
    return "-" if x is None or x != x else f"{x:.{digits}f}"


def paper_row(s: dict) -> dict:
    n = max(s["samples"], 1)
    return {
        "samples": s["samples"],
        "valid_rate": s["valid_rate"],
        "correct_state_rate": s["correct_state"] / n,
        "kl_generated": s["kl_generated"],
        "kl_random": s["kl_random"],
        "kl_ratio": s["kl_ratio"],
        "expectation_success_rate": s["expectation_success"] / n,
    }


def markdown(result: dict) -> list[str]:
    from benchmarks.harness import markdown_table

    cols = {**result["anchors"], **result["ours"]}
    metrics = [
        ("samples", lambda v: "-" if v is None else str(v)),
        ("valid_rate", _pct),
        ("correct_state_rate", _pct),
        ("kl_generated", _num),
        ("kl_random", _num),
        ("kl_ratio", _num),
        ("expectation_success_rate", _pct),
    ]
    labels = {
        "samples": "Samples",
        "valid_rate": "Syntactically valid",
        "correct_state_rate": "Correct most-probable state",
        "kl_generated": "Mean KL (generated)",
        "kl_random": "Mean KL (random parameters)",
        "kl_ratio": "KL ratio generated / random",
        "expectation_success_rate": "Expectation success (gap <= 0.2)",
    }
    lines = [
        "# LLM circuit generator (Agent-Q, arXiv 2504.11109): reproduction",
        "",
        f"Status: {result['status']}. Command: `{result['command']}`",
        "",
        "Invocations on the work folder (the study resumes; UTC): "
        + "; ".join(f"`{c}`" for c in result.get("commands", [])),
        "",
        result["setup"],
        "",
        *markdown_table(
            ["", *cols], [[labels[m], *(f(c.get(m)) for c in cols.values())] for m, f in metrics]
        ),
        "",
        "Targets: "
        + "; ".join(f"{k} {v}: {'met' if result['checks'].get(k) else 'not met'}" for k, v in TARGETS.items())
        + "".join(
            f"; with the {name} decoding: "
            + ", ".join(f"{k} {'met' if ok else 'not met'}" for k, ok in checks.items())
            for name, checks in (result.get("decoding_checks") or {}).items()
        ),
        "",
    ]
    rounds = result.get("on_policy_rounds") or []
    if rounds:
        lines += [
            "## On-policy rounds (the model's own greedy answers to training prompts, before each round)",
            "",
            "Each round answers training prompts with the previous model and turns the answers into"
            " rows (qml.generators.llm.on_policy): `<eos>` labelled where an answer runs past the"
            " structure at which its reference ends (its last line's shape, as often as the reference"
            " writes it: the p-th mixer layer), `<eos>` avoided (unlikelihood) where it stopped"
            " before, the token avoided that writes a line a third time in a row (a loop; `-` where a"
            " round ran before this rule) or a number's fifth decimal (the records round to four;"
            " `-` likewise), and the grammar's allowed tokens masked up to its first"
            " forbidden one; it trains one epoch from the previous weights on those rows beside"
            " reference rows. The counts describe the answers of the model *entering* the round."
            " The setup's validation perplexity is the last round's; the trained run's before the"
            f" rounds was {_num(result['training'].get('first_val_perplexity'), 3)}.",
            "",
            *markdown_table(
                [
                    "round",
                    "answers",
                    "stopped at its reference's structural end",
                    "ran past it (<eos> labelled)",
                    "stopped early (<eos> avoided)",
                    "looped (line avoided)",
                    "number past 4 decimals (digit avoided)",
                    "ran into the context before its stop",
                    "ran into the context",
                    "wrote a forbidden token",
                    "val. perplexity after",
                    "forbidden mass after",
                    "training minutes",
                ],
                [
                    [
                        str(r["round"]),
                        str(r["rollouts"]["rollouts"]),
                        str(r["rollouts"]["stopped"]),
                        str(r["rollouts"]["overran"]),
                        str(r["rollouts"].get("early", "-")),
                        str(r["rollouts"].get("looped", "-")),
                        str(r["rollouts"].get("long_number", "-")),
                        str(r["rollouts"]["short"]),
                        str(r["rollouts"]["context"]),
                        str(r["rollouts"].get("strayed", "-")),
                        _num(r.get("val_perplexity")),
                        "-" if r.get("val_illegal_mass") is None else f"{r['val_illegal_mass']:.2e}",
                        _num(r.get("seconds", 0) / 60, 1),
                    ]
                    for r in rounds
                ],
            ),
            "",
        ]
    ws = result.get("warm_start") or {}
    if ws.get("circuits"):
        lines += [
            f"## Warm start ({ws['circuits']} held-out circuits, Adam lr 0.05, budget {ws['budget']} steps, "
            "5 random starts each)",
            "",
            *markdown_table(
                [
                    "start",
                    "within 0.2 of the optimum",
                    "median steps (budget+1 if never)",
                    "mean gap at start",
                    "mean gap at end",
                ],
                [
                    [
                        "generated angles",
                        _pct(ws["generated_reached"]),
                        _num(ws["generated_median_steps"], 0),
                        _num(ws["generated_mean_start_gap"]),
                        _num(ws["generated_mean_end_gap"]),
                    ],
                    [
                        "random U[0, 2pi)",
                        _pct(ws["random_reached"]),
                        _num(ws["random_median_steps"], 0),
                        _num(ws["random_mean_start_gap"]),
                        _num(ws["random_mean_end_gap"]),
                    ],
                ],
            ),
            "",
        ]
    per = result.get("per_problem") or {}
    if per:
        lines += ["## Per problem (unconstrained / constrained)", ""]
        lines += markdown_table(
            ["problem", "n", "valid", "correct state", "KL ratio", "expectation success"],
            [
                [
                    p,
                    v["free"]["samples"],
                    *(
                        f"{fmt(v['free'][m])} / {fmt(v['constrained'][m])}"
                        for m, fmt in (
                            ("valid_rate", _pct),
                            ("correct_state_rate", _pct),
                            ("kl_ratio", _num),
                            ("expectation_success_rate", _pct),
                        )
                    ),
                ]
                for p, v in per.items()
            ],
        )
        lines.append("")
    lines += ["## Notes", "", *[f"- {n}" for n in result["notes"]], ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    add_out(parser)
    add_quick(parser, "two problems, a tiny model, a few held-out instances")
    parser.add_argument("--work", type=Path, default=None, help="working folder (resumed)")
    parser.add_argument("--seeds", type=int, default=24, help="training graphs per problem and size")
    parser.add_argument(
        "--balance",
        action="store_true",
        help="as many training records per problem: problems with fewer sizes get more graphs",
    )
    parser.add_argument("--held-out-seeds", type=int, default=2, help="held-out graphs per problem and size")
    parser.add_argument(
        "--stage",
        default="all",
        help="stop after this stage: dataset, prepare (only write the --prepared file), train or all",
    )
    parser.add_argument("--size", default="tiny", help="model size (qml.generators.lm.LM_SIZES)")
    parser.add_argument(
        "--width", type=int, default=128, help="embedding width over the size's (0: the size's)"
    )
    parser.add_argument("--block", type=int, default=320, help="context: prompt + answer tokens")
    parser.add_argument(
        "--layers", type=int, default=0, help="transformer layers over the size's (0: the size's)"
    )
    parser.add_argument(
        "--index-tokens", action="store_true", help="every register index its own token (see train_tokenizer)"
    )
    parser.add_argument(
        "--angle-tokens",
        action="store_true",
        help="every angle its own piece, so a number's close is never merged with its digits"
        " (see train_tokenizer)",
    )
    parser.add_argument(
        "--batching",
        choices=("random", "by-length"),
        default=None,
        help="mini-batches: random (the default of a new run), or by-length (each window of 50 batches"
        " sorted by length, the batches shuffled; less padding, faster on a CPU); a resumed run keeps"
        " its own unless given",
    )
    parser.add_argument(
        "--angle-decimals",
        type=int,
        default=0,
        help="write every answer's angles with exactly this many decimals (0: as the records have them,"
        " 1 to 4 decimals), so that a number always ends after the same digit count",
    )
    parser.add_argument(
        "--grammar-weight",
        type=float,
        default=0.0,
        help="weight of the grammar term in training: -log P(tokens the OpenQASM 3 grammar allows) at"
        " every answer position (qml.generators.grammar_loss); decoding stays unconstrained",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="on-policy rounds after training: each answers --rollouts training prompts with the"
        " model and trains on its missed stops and forbidden tokens (qml.generators.llm.on_policy)",
    )
    parser.add_argument("--rollouts", type=int, default=2000, help="training prompts answered per round")
    parser.add_argument(
        "--replay", type=int, default=4000, help="reference rows trained beside them per round"
    )
    parser.add_argument("--round-epochs", type=int, default=1, help="epochs of each round")
    parser.add_argument("--round-lr", type=float, default=2e-4, help="learning rate of each round (cosine)")
    parser.add_argument(
        "--picks",
        type=Path,
        default=None,
        help="records.jsonl of the held-out instances to answer (an earlier run's)",
    )
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--device", default="cpu", help="torch device of training: cpu, cuda")
    parser.add_argument("--tag", default="", help="results file suffix (an ablation beside the main study)")
    parser.add_argument("--note", action="append", default=[], help="a line for the results' notes")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--eval", type=int, default=150, help="held-out prompts answered and scored")
    parser.add_argument(
        "--decoding",
        nargs="*",
        default=[],
        help="further named decodings (qml.generators.llm.generate.DECODINGS; paper: the paper's implicit"
        " sampling), each scored in two more columns beside greedy's",
    )
    parser.add_argument("--warm", type=int, default=40, help="held-out circuits for the warm start")
    parser.add_argument("--n-random", type=int, default=1000, help="random draws of the KL baseline")
    parser.add_argument(
        "--finish-now", action="store_true", help="finish training from the best epoch so far"
    )
    parser.add_argument("--dataset-until", default=None, help="UTC HH:MM: stop building training records")
    parser.add_argument(
        "--prepared",
        type=Path,
        default=None,
        help="file of the training data as loaded (tokenizer, encodings, grammar masks): read when it"
        " exists, else written (prepare on one machine, train on another)",
    )
    parser.add_argument(
        "--train-seconds",
        type=float,
        default=None,
        help="stop training after this many seconds, keep the best epoch",
    )
    parser.add_argument("--train-until", default=None, help="UTC HH:MM: stop training, keep the best epoch")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.held_out_seeds, args.epochs, args.eval, args.warm = 3, 1, 3, 6, 2
        args.n_random = 100
    from data.cache import data_home

    work = args.work or data_home() / ("repro_llm_generator" + ("_quick" if args.quick else ""))
    work.mkdir(parents=True, exist_ok=True)
    from benchmarks.harness import launch_command

    command = launch_command("benchmarks/repro_llm_generator.py", sys.argv[1:] if argv is None else argv)
    t_start = time.time()
    log = work / "commands.txt"  # every invocation on this work folder, in order (resumed runs)
    with log.open("a") as fh:
        fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {command}\n")
    train_raw, test_raw, built = dataset_stage(work, args)
    if args.stage == "dataset":
        return 0
    from qml.training.optim import TrainingInterrupted

    nodes = QUICK_NODES if args.quick else NODES
    keys = {name: {t.key for t in task_list(name, nodes, args)} for name in ("train", "test")}
    train_recs = _filtered(train_raw, keys["train"], work / "train" / "records.jsonl")
    test_recs = _filtered(test_raw, keys["test"], work / "test" / "records.jsonl")
    print(f"records: {len(train_recs)} training, {len(test_recs)} held out", flush=True)
    done = any((work / "runs").glob("llm-circuits-*/metrics.json"))
    if args.finish_now and not done:
        run_dir = finish_from_checkpoint(work, work / "train" / "records.jsonl", args.prepared)
    elif args.stage == "prepare":
        if args.prepared is None:
            parser.error("--stage prepare needs --prepared FILE")
        train_stage(work, work / "train" / "records.jsonl", args)
        print(f"prepared: {args.prepared}", flush=True)
        return 0
    else:
        stop = _until(args.train_until)
        budget = args.train_seconds or (None if stop is None else max(stop - time.time(), 0.001))
        try:
            with deadline(None if done else budget):
                run_dir = train_stage(work, work / "train" / "records.jsonl", args)
        except (StepTimeout, TrainingInterrupted) as exc:
            if isinstance(exc, TrainingInterrupted) and not is_timeout(exc):
                raise
            print("training: stopped for time (--train-until / --train-seconds)", flush=True)
            run_dir = finish_from_checkpoint(work, work / "train" / "records.jsonl", args.prepared)
    rounds: list[dict] = []
    if args.rounds:
        first = run_dir
        run_dir, rounds = on_policy_stage(work, work / "train" / "records.jsonl", run_dir, args)
        first_metrics = json.loads((first / "metrics.json").read_text())
    if args.stage == "train":
        return 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    if rounds:  # the training figures are the first run's; the rounds are listed apart
        metrics = {
            **first_metrics,
            "val_perplexity": metrics["val_perplexity"],
            "val_illegal_mass": metrics.get("val_illegal_mass"),
            "first_val_perplexity": first_metrics.get("val_perplexity"),
        }
    from qml.generators.llm.generate import DECODINGS, load_llm

    enc, block = load_llm(run_dir).encoder, metrics.get("model_shape", {}).get("context", args.block)
    fits = [r for r in test_recs if enc.fits(r, block)]
    picks = held_out(fits, args.eval)
    if args.picks:  # the held-out instances of an earlier run, for a like-for-like comparison
        by_key = {r["key"]: r for r in test_recs}
        picks = [by_key[json.loads(line)["key"]] for line in args.picks.read_text().splitlines()]
    suffix = f"_round{args.rounds}" if args.rounds else ""
    free = generate_stage(run_dir, picks, work / f"generated_free{suffix}", False)
    cons = generate_stage(run_dir, picks, work / f"generated_constrained{suffix}", True)
    rows_free, s_free = evaluate_stage(free, picks, args.n_random)
    rows_cons, s_cons = evaluate_stage(cons, picks, args.n_random)
    warm = warm_stage(free, picks, rows_free, args.warm, work, suffix)
    others = {}  # further decodings (--decoding): both columns of each, and its targets
    for name in args.decoding:
        cols = {}
        for constrained, kind in ((False, "unconstrained"), (True, "grammar-constrained")):
            folder = work / f"generated_{'constrained' if constrained else 'free'}{suffix}_{name}"
            cols[kind] = evaluate_stage(
                generate_stage(run_dir, picks, folder, constrained, name), picks, args.n_random
            )[1]
        others[name] = cols
    from qml.generators.llm.evaluate import summarise

    per = {}
    for p in sorted({r["problem"] for r in picks}):
        sel = [i for i, r in enumerate(picks) if r["problem"] == p]
        per[p] = {
            "free": paper_row(summarise([rows_free[i] for i in sel])),
            "constrained": paper_row(summarise([rows_cons[i] for i in sel])),
        }
    diagnosis = index_diagnosis(free, picks)
    lengths = length_diagnosis(free, picks, rows_free)
    reasons: dict[str, int] = {}
    for row in rows_free:
        if not row["valid"]:
            reason = row["reason"] or ""
            head = reason.split(" (")[0] if reason.startswith("IndexError") else reason.split(":")[0]
            reasons[head] = reasons.get(head, 0) + 1
    ours = {
        "ours, unconstrained": paper_row(s_free),
        "ours, grammar-constrained": paper_row(s_cons),
    }
    for name, cols in others.items():
        ours |= {f"ours, {kind}, {name} decoding": paper_row(v) for kind, v in cols.items()}
    checks = target_checks(s_free, s_cons)
    decoding_checks = {
        name: target_checks(cols["unconstrained"], cols["grammar-constrained"])
        for name, cols in others.items()
    }
    stopped = metrics.get("stopped_at_epoch")
    status = "complete" if not args.quick else "quick settings (smoke test, not a result)"
    if stopped:
        status += f"; training stopped for time at epoch {stopped} (best epoch's weights)"
    shape = metrics.get("model_shape", {})
    data_opts = json.loads((run_dir / "run.json").read_text()).get("data_options", {})
    index_note = ", every register index its own token" if data_opts.get("index_tokens") else ""
    index_note += ", every angle its own piece" if data_opts.get("angle_tokens") else ""
    if data_opts.get("angle_decimals"):
        index_note += f", answers' angles written with {data_opts['angle_decimals']} decimals"
    device = (metrics.get("config") or {}).get("device", "cpu")
    threads = (
        "the threads of the training invocation (OMP_NUM_THREADS in the list above)"
        if device == "cpu"
        else f"one {device} device"
    )
    init = data_opts.get("init")
    init_note = ""
    if init:  # a run continued from another run's weights: say from what
        try:
            before = json.loads((Path(init) / "metrics.json").read_text())
            init_note = (
                f" Continued from the weights of {Path(init).name} ({before.get('epochs')} epochs, validation"
                f" perplexity {before.get('val_perplexity', float('nan')):.3f}) at lr"
                f" {(metrics.get('config') or {}).get('lr')}: {_lineage(Path(init))}."
            )
        except (OSError, ValueError):
            init_note = f" Continued from the weights of {init}."
    grammar_note = (
        f" Training loss: next-token cross-entropy plus {data_opts['grammar_weight']} x the grammar term"
        " (-log P(tokens the OpenQASM 3 grammar allows for the prompt's register) at every answer"
        " position; qml.generators.grammar_loss); validation probability on forbidden tokens"
        f" {metrics.get('val_illegal_mass', float('nan')):.2e}; decoding is not constrained by it."
        if data_opts.get("grammar_weight")
        else ""
    )
    history = metrics.get("history") or {}
    train_minutes = sum(history.get("seconds", [])) / 60 or (
        metrics.get("seconds_per_epoch", 0) * (metrics.get("epochs") or stopped or 0) / 60
    )
    per_problem_records: dict[str, int] = {}
    for r in train_recs:
        per_problem_records[r["problem"]] = per_problem_records.get(r["problem"], 0) + 1
    setup = (
        f"{len(train_recs)} training records ("
        + (
            f"the last training step: {metrics.get('n_records', {}).get('train')} rows, on-policy and"
            " reference, "
            if data_opts.get("rollouts")
            else f"{metrics.get('n_records', {}).get('train')} fit the context, "
        )
        + f"{metrics.get('n_records', {}).get('val')} of held-out training graphs for validation), "
        f"{len(test_recs)} held-out records of unseen graphs (seeds {HELD_OUT_SEED}+), "
        f"{len(fits)} of them fit the context with their reference answer (as in training), "
        + (
            f"{len(picks)} answered: the held-out instances of an earlier run (--picks), "
            f"{sum(r['key'] in {f['key'] for f in fits} for r in picks)} of them within this context. "
            if args.picks
            else f"{len(picks)} of those answered (stratified over the problems). "
        )
        + f"Model: GPT-2 from scratch, {shape.get('n_layer')} layers, {shape.get('n_embd')} wide, context "
        f"{shape.get('context')}, {metrics.get('n_parameters')} parameters, "
        f"{metrics.get('epochs', stopped)} epochs ({train_minutes:.1f} min of training at "
        f"{metrics.get('seconds_per_epoch', float('nan')):.0f} s per epoch on {threads}), "
        f"validation perplexity of the answers {metrics.get('val_perplexity', float('nan')):.3f}.{init_note} "
        f"Tokenizer: byte-level BPE trained on the records{index_note}.{grammar_note} "
        "Decoding: greedy, one beam, no repetition penalty, seed 112 (pinned)"
        + "".join(
            f"; the `{name}` decoding's columns: {', '.join(f'{k} {v}' for k, v in DECODINGS[name].items())}"
            for name in args.decoding
        )
        + "."
    )
    notes = [
        "Problems and sizes: "
        + ", ".join(f"{p} {'/'.join(map(str, ns))} nodes" for p, ns in nodes.items())
        + ".",
        "Training records per problem"
        + (" (--balance: problems with fewer sizes get more graphs)" if args.balance else "")
        + ": "
        + ", ".join(f"{p} {n}" for p, n in per_problem_records.items())
        + ".",
        "Reference solutions follow the paper's stop rule (stop once the most probable state is optimal): "
        "most QAOA records stop after 10 Adam steps with small angles, so p_solution is a gently tilted "
        "near-uniform distribution; the KL and expectation metrics are relative to it, as the paper's.",
        f"Invalid unconstrained answers by reason: {reasons or 'none'}.",
        f"Register use of the unconstrained answers: {diagnosis['register_as_prompted']} of "
        f"{diagnosis['answers']} declare the prompt's qubit count; answers indexing beyond it, by problem: "
        f"{diagnosis['beyond_register'] or 'none'} ({diagnosis['below_nodes']} of them within the graph's "
        "node count).",
        f"Answer lengths (unconstrained): {lengths['unterminated']} of {lengths['answers']} stop at the "
        f"context limit inside a line; {lengths['longer']['valid']} valid and {lengths['longer']['invalid']} "
        "invalid answers run more than two lines past their reference; median lines generated / "
        f"reference {_num(lengths['line_ratio'])}.",
        "Anchors: Agent-Q fine-tuned Qwen2.5-3B on 14,000 records, 580 test samples "
        "(summary_stats_quantum-circuit-qubo-3B.json); Vista/QUASAR Pass@1 from its table 1 "
        "(SCR 99.31 %, RE 11.61, SREV 22.41 %). "
        f"Our model has {metrics.get('n_parameters')} parameters, trained from scratch"
        f" ({'last ' if init else ''}{'on this CPU' if device == 'cpu' else 'on a lent ' + device + ' GPU'}"
        f"{'; the runs it continued from are in the setup above' if init else ''}).",
        *args.note,
    ]
    result = {
        "status": status,
        "command": command,
        "commands": log.read_text().splitlines(),
        "seconds": time.time() - t_start,
        "setup": setup,
        "anchors": ANCHORS,
        "ours": ours,
        "summary_unconstrained": s_free,
        "summary_constrained": s_cons,
        "targets": TARGETS,
        "checks": checks,
        "decoding_checks": decoding_checks,
        "warm_start": warm,
        "per_problem": per,
        "invalid_reasons": reasons,
        "register_diagnosis": diagnosis,
        "length_diagnosis": lengths,
        "on_policy_rounds": rounds,
        "training": {k: v for k, v in metrics.items() if k not in ("history", "config")},
        "dataset": built,
        "notes": notes,
        "machine": machine_summary(),
    }
    name = "repro_llm_generator" + ("_quick" if args.quick else "") + (f"_{args.tag}" if args.tag else "")
    paths = write_results(args.out, name, result, markdown(result))
    print("\n".join(markdown(result)))
    print(f"written: {paths[0]} {paths[1]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
