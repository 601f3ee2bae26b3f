"""GQE peer comparison: ketml's GQE against cudaq-solvers' GQE on the same Hamiltonian and pool.

cudaq-solvers pins its own cuda-quantum and needs libgfortran5, so it lives in a separate
environment; this script runs in both. ``--export`` (ketml's venv) writes the molecule's Hamiltonian
and excitation pool to JSON; ``--peer`` (the cudaq-solvers venv) runs ``cudaq_solvers.gqe`` with a
cost that prepares HF and applies each token's Pauli exponentials on CUDA-Q (``qpp-cpu`` without a
GPU), recording the wall time at which the best energy first comes within chemical accuracy;
``--ketml`` runs ours with the same pool, samples, gates, iterations, learning rate and inverse
temperature schedule. Results go to ``<out>/gqe_peer.{json,md}`` (problems and per-run results in
``<out>/gqe_peer/``; ``--out`` defaults to ``benchmarks/results``).

    .venv/bin/python benchmarks/gqe_peer.py --export H2 LiH
    /path/to/cqs-venv/bin/python benchmarks/gqe_peer.py --peer H2 LiH   # mpi4py needs libmpi
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gqe_peer.py --ketml H2 LiH --summarize
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# last on the path: in the cudaq-solvers venv nothing of ours (data/, circuits/) may shadow its
# packages; the harness imports only the standard library, so it loads in either venv
sys.path.append(str(ROOT))
from benchmarks.harness import (  # noqa: E402
    add_out,
    import_peer,
    markdown_table,
    new_parser,
    run_main,
    write_json,
    write_results,
)

CHEMICAL_ACCURACY = 1.6e-3
#: shared settings: (num_samples, ngates, max_iters); lr, beta0 and beta step as in repro_chemistry
SETTINGS = {"H2": (20, 4, 30), "LiH": (50, 20, 60)}
LR, BETA0, BETA_STEP = 1e-3, 5.0, 0.5


def export(name: str, folder: Path) -> None:
    """Write ``<folder>/<name>-problem.json``: Hamiltonian, HF bitstring, FCI energy, pool tokens."""
    from chemistry import molecule
    from chemistry.gqe.pool import excitation_pool

    mol = molecule(name)
    pool = excitation_pool(mol.n_qubits, mol.n_alpha, mol.n_beta)
    write_json(
        folder / f"{name}-problem.json",
        {
            "name": name,
            "n_qubits": mol.n_qubits,
            "hf_bitstring": mol.hf_bitstring,
            "fci": mol.energies["fci"],
            "hamiltonian": [
                [p.to_label(), float(c.real)]
                for p, c in zip(mol.hamiltonian.paulis, mol.hamiltonian.coeffs, strict=True)
            ],
            "tokens": pool.tokens,
        },
    )


def run_peer(name: str, folder: Path) -> dict:
    """cudaq-solvers' GQE on the exported problem (run with the cudaq-solvers venv's python)."""
    hint = "run --peer with the python of the cudaq-solvers environment (see the docstring)"
    cudaq = import_peer("cudaq", package="cudaq", hint=hint)
    solver = import_peer("cudaq_solvers.gqe_algorithm.gqe", package="cudaq-solvers", hint=hint)
    get_default_config, gqe = solver.get_default_config, solver.gqe

    problem = json.loads((folder / f"{name}-problem.json").read_text())
    n, fci = problem["n_qubits"], problem["fci"]
    samples, ngates, iters = SETTINGS[name]
    ham = 0.0 * cudaq.spin.i(0)
    for label, coeff in problem["hamiltonian"]:
        term = coeff * cudaq.spin.i(0)
        for q, ch in enumerate(reversed(label)):  # Qiskit label: qubit 0 is the right-most character
            if ch != "I":
                term *= {"X": cudaq.spin.x, "Y": cudaq.spin.y, "Z": cudaq.spin.z}[ch](q)
        ham += term
    occupied = [q for q, ch in enumerate(reversed(problem["hf_bitstring"])) if ch == "1"]

    @cudaq.kernel
    def ansatz(n_qubits: int, occ: list[int], words: list[cudaq.pauli_word], thetas: list[float]):
        q = cudaq.qvector(n_qubits)
        for k in occ:
            x(q[k])  # noqa: F821 (CUDA-Q kernel builtin)
        for i in range(len(words)):
            exp_pauli(thetas[i], q, words[i])  # noqa: F821

    state = {"t0": None, "hit": None, "best": float("inf"), "calls": 0}

    def cost(tokens, qpu_id: int = 0) -> float:
        words, thetas = [], []
        for steps in tokens:
            for label, t in steps:
                if set(label) != {"I"}:
                    words.append(cudaq.pauli_word(label[::-1]))  # CUDA-Q: character i acts on qubit i
                    thetas.append(-float(t))  # exp_pauli(theta, P) = exp(i theta P); ours is exp(-i t P)
        energy = cudaq.observe(ansatz, ham, n, occupied, words, thetas).expectation()
        state["calls"] += 1
        if energy < state["best"]:
            state["best"] = energy
            if state["hit"] is None and energy - fci <= CHEMICAL_ACCURACY:
                state["hit"] = time.perf_counter() - state["t0"]
        if state["calls"] % samples == 0:  # about one line per iteration: a partial run still tells
            print(
                f"{name}: {state['calls']} evaluations, {time.perf_counter() - state['t0']:.0f} s, "
                f"best error {1e3 * (state['best'] - fci):.3f} mHa",
                flush=True,
            )
        return energy

    cfg = get_default_config()
    cfg.num_samples, cfg.ngates, cfg.max_iters = samples, ngates, iters
    cfg.lr, cfg.temperature, cfg.del_temperature, cfg.small = LR, BETA0, BETA_STEP, True
    pool = [[(lab, t) for lab, t in steps] for steps in problem["tokens"]]
    state["t0"] = time.perf_counter()
    energy, _ = gqe(cost, pool, config=cfg)
    seconds = time.perf_counter() - state["t0"]
    return {
        "solver": "cudaq-solvers",
        "molecule": name,
        "target": cudaq.get_target().name,
        "energy": float(energy),
        "error": float(energy) - fci,
        "seconds": seconds,
        "seconds_to_chemical_accuracy": state["hit"],
        "evaluations": state["calls"],
        "settings": {
            "num_samples": samples,
            "ngates": ngates,
            "max_iters": iters,
            "lr": LR,
            "beta0": BETA0,
            "beta_step": BETA_STEP,
            "model": "GPT-2 small (6 x 768)",
        },
    }


def run_ketml(name: str, folder: Path) -> dict:
    """ketml's GQE on the exported problem with the peer's settings."""
    from qiskit.quantum_info import SparsePauliOp

    from chemistry.gqe import GQEConfig, run_gqe
    from chemistry.gqe.pool import OperatorPool

    problem = json.loads((folder / f"{name}-problem.json").read_text())
    fci = problem["fci"]
    samples, ngates, iters = SETTINGS[name]
    ham = SparsePauliOp.from_list([(lab, c) for lab, c in problem["hamiltonian"]])
    tokens = [[(lab, t) for lab, t in steps] for steps in problem["tokens"]]
    pool = OperatorPool(problem["n_qubits"], tokens, [str(i) for i in range(len(tokens))])
    cfg = GQEConfig(
        num_samples=samples,
        ngates=ngates,
        max_iters=iters,
        lr=LR,
        beta0=BETA0,
        beta_step=BETA_STEP,
        loss="exp",
        batch_size=samples,
        buffer_size=samples,
        steps_per_iter=1,
        checkpoint_every=0,
    )
    warm = GQEConfig(**{**cfg.__dict__, "max_iters": 1})
    run_gqe(ham, pool, problem["hf_bitstring"], warm, progress=False)  # imports and first calls untimed
    t0 = time.perf_counter()
    hit = run_gqe(ham, pool, problem["hf_bitstring"], cfg, progress=False, target=fci)
    to_accuracy = time.perf_counter() - t0 if hit.energy - fci <= CHEMICAL_ACCURACY else None
    full = run_gqe(ham, pool, problem["hf_bitstring"], cfg, progress=False)  # all iterations, as the peer
    return {
        "solver": "ketml",
        "molecule": name,
        "energy": full.energy,
        "error": full.energy - fci,
        "seconds": full.seconds,
        "seconds_to_chemical_accuracy": to_accuracy,
        "evaluations": full.n_evaluations,
        "settings": {
            "num_samples": samples,
            "ngates": ngates,
            "max_iters": iters,
            "lr": LR,
            "beta0": BETA0,
            "beta_step": BETA_STEP,
            "model": "GPT-2 2 x 64",
        },
    }


def summarize(out: Path) -> list[dict]:
    """Merge ``<out>/gqe_peer/*-result-*.json`` into ``<out>/gqe_peer.{json,md}``; return the rows."""
    rows = [json.loads(p.read_text()) for p in sorted((out / "gqe_peer").glob("*-result-*.json"))]
    header = ["molecule", "solver", "error vs FCI (mHa)", "s to chem. acc.", "total s", "evaluations", "note"]
    table = []
    for r in rows:  # a run stopped by hand is kept as a lower bound, with its "status"
        hit = r["seconds_to_chemical_accuracy"]
        table.append(
            [
                r["molecule"],
                r["solver"],
                f"{r['error'] * 1e3:.3f}",
                "-" if hit is None else f"{hit:.1f}",
                f"{r['seconds']:.1f}",
                r["evaluations"],
                r.get("status", "complete"),
            ]
        )
    title = "# GQE: ketml vs cudaq-solvers (same Hamiltonian, excitation pool and schedule)"
    write_results(out, "gqe_peer", rows, [title, "", *markdown_table(header, table)])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    add_out(parser)
    parser.add_argument("molecules", nargs="*", default=["H2", "LiH"])
    parser.add_argument("--export", action="store_true", help="write the problems (ketml's venv)")
    parser.add_argument("--peer", action="store_true", help="run cudaq-solvers' GQE (its own venv)")
    parser.add_argument("--ketml", action="store_true", help="run ketml's GQE")
    parser.add_argument("--summarize", action="store_true", help="write gqe_peer.{json,md}")
    args = parser.parse_args(argv)
    folder = args.out / "gqe_peer"
    for name in args.molecules:
        if args.export:
            export(name, folder)
        for flag, fn, tag in ((args.peer, run_peer, "cudaq"), (args.ketml, run_ketml, "ketml")):
            if flag:
                result = fn(name, folder)
                write_json(folder / f"{name}-result-{tag}.json", result)
                print(json.dumps(result))
    if args.summarize:
        summarize(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
