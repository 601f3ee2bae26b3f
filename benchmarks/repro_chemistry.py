"""Reproduction of the chemistry issue (GQE, VQE, q-sc-EOM and the Auger spectrum of water).

Entries (each writes ``<out>/repro_chemistry/<id>.json`` and is skipped once done):

* ``fci-<mol>``: our qubit Hamiltonian's lowest eigenvalue vs pyscf FCI/CASCI (H2, LiH, H2O, with and
  without active space).
* ``vqe-<mol>`` / ``gqe-<mol>``: VQE-UCCSD and GQE (excitation pool; see ``GQE_SETTINGS``) on H2, LiH and H2O
  (STO-3G, full space): energy error vs FCI, wall time, gate counts after transpiling to {CX, U}.
* ``auger-<method>``: the water Auger spectrum (O 1s hole, one-centre approximation) from FCI, and
  from q-sc-EOM on the VQE and GQE ground-state circuits (``-std``: the paper's 1h+2h1p / 2h+3h1p
  manifolds; default: 3h2p / 4h2p added); peak positions and heights.
* ``peer-gqe-<mol>``: cudaq-solvers' GQE on the same Hamiltonian and pool (only in an environment
  where ``cudaq_solvers`` imports; see ``--peer-python``).

``--summarize`` writes ``<out>/repro_chemistry.{json,md}``.

    KETML_DATA=../shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/repro_chemistry.py
    .venv/bin/python benchmarks/repro_chemistry.py --summarize
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    EntryStore,
    add_entry_options,
    add_out,
    add_quick,
    git_commit,
    machine_summary,
    markdown_table,
    new_parser,
    run_main,
    write_results,
)

CHEMICAL_ACCURACY = 1.6e-3
FCI_CASES = {
    "H2": ("H2", None),
    "LiH": ("LiH", None),
    "LiH-cas23": ("LiH", (2, 3)),
    "H2O": ("H2O", None),
    "H2O-cas44": ("H2O", (4, 4)),
    "H2O-cas86": ("H2O", (8, 6)),
}
#: GQE settings per molecule (``GQEConfig`` fields). H2 learns in a few iterations with logit
#: matching ("exp"). On LiH, logit matching with a fast inverse-temperature ramp stalled at 2.35 mHa
#: after 400 iterations (the sampler collapsed at high beta), while GRPO with 100 samples, a slow
#: ramp from beta 1 and a light best-sequence term (best_weight 0.1) reached chemical accuracy in
#: ~45 iterations; H2O uses the same GRPO recipe with more gates.
#: The loss's recipe (lr, inverse-temperature schedule, ...) is ``chemistry.gqe.GQE_RECIPES``.
GQE_SETTINGS = {
    "H2": dict(max_iters=60, num_samples=50, ngates=4, loss="exp", batch_size=50, buffer_size=50),
    "LiH": dict(max_iters=300, num_samples=100, ngates=20, loss="grpo", batch_size=100, buffer_size=200),
    "H2O": dict(max_iters=200, num_samples=100, ngates=40, loss="grpo", batch_size=100, buffer_size=200),
}
QUICK_GQE = {
    "H2": dict(max_iters=20, num_samples=20, ngates=4),
    "LiH": dict(max_iters=5, num_samples=10, ngates=8, batch_size=10),
    "H2O": dict(max_iters=3, num_samples=10, ngates=8, batch_size=10),
}
#: q-sc-EOM manifolds for the Auger entries: "std" is the paper's (1h+2h1p / 2h+3h1p); the default
#: adds 3h2p / 4h2p, which brings the core-hole relaxation within a few mHa of FCI.
MANIFOLDS = {"std": ("1h+2h1p", "2h+3h1p"), "ext": ("1h+2h1p+3h2p", "2h+3h1p+4h2p")}


def _gqe_config(name: str, quick: bool):
    from chemistry.gqe import GQE_RECIPES, GQEConfig

    settings = {**GQE_SETTINGS[name], **(QUICK_GQE[name] if quick else {})}
    return GQEConfig(checkpoint_every=10, **GQE_RECIPES[settings["loss"]], **settings)


def _molecule(name: str, active=None):
    from chemistry import molecule

    return molecule(name, active_space=active)


def run_fci(case: str) -> dict:
    from chemistry import exact_ground_state

    name, active = FCI_CASES[case]
    mol = _molecule(name, active)
    e0, _ = exact_ground_state(mol.hamiltonian, mol.n_electrons)
    return {
        "molecule": name,
        "active_space": active,
        "n_qubits": mol.n_qubits,
        "lowest_eigenvalue": float(e0),
        "pyscf_fci": mol.energies["fci"],
        "difference": float(e0 - mol.energies["fci"]),
    }


def run_vqe(name: str, quick: bool) -> dict:
    from chemistry.workflow import ground_state

    mol = _molecule(name)
    opts = {"maxiter": 5} if quick else {}
    gs = ground_state(mol, "vqe", progress=False, vqe_options=opts)
    return _ground_state_entry(name, mol, gs)


def _ground_state_entry(name: str, mol, gs, **extra) -> dict:
    """One VQE or GQE entry: energy against FCI, chemical accuracy, time, gates, the run's info."""
    return {
        "molecule": name,
        "n_qubits": mol.n_qubits,
        "energy": gs.energy,
        "fci": mol.energies["fci"],
        "error": gs.error,
        "chemical_accuracy": abs(gs.error) <= CHEMICAL_ACCURACY,
        "seconds": gs.seconds,
        "gate_counts": gs.gate_counts,
        **extra,
        **gs.info,
    }


def run_gqe(name: str, quick: bool, runs: Path) -> dict:
    from chemistry.workflow import ground_state

    mol = _molecule(name)
    cfg = _gqe_config(name, quick)
    out = runs / f"gqe-{name}"
    resume = (out / "checkpoint.pt").exists() and not quick
    gs = ground_state(mol, "gqe", gqe_config=cfg, out_dir=out, resume=resume, progress=not quick)
    return _ground_state_entry(name, mol, gs, settings=cfg.__dict__)


def run_auger(spec_id: str, quick: bool, runs: Path) -> dict:
    """``spec_id``: "fci", "vqe", "gqe" (extended manifolds) or "vqe-std", "gqe-std" (the paper's)."""
    from chemistry.auger import auger_spectrum
    from chemistry.workflow import ground_state

    method, _, variant = spec_id.partition("-")
    ip, dip = MANIFOLDS[variant or "ext"]
    mol = _molecule("H2O")
    t0 = time.perf_counter()
    info = {}
    if method == "fci":
        spec = auger_spectrum(mol, "fci")
        ip = dip = None
    else:
        cfg = _gqe_config("H2O", quick)
        out = runs / "gqe-H2O"
        resume = (out / "checkpoint.pt").exists() and not quick
        gs = ground_state(
            mol,
            method,
            gqe_config=cfg,
            out_dir=out,
            resume=resume,
            progress=not quick,
            vqe_options={"maxiter": 5} if quick else None,
        )
        info = {"ground_energy": gs.energy, "error": gs.error, "gate_counts": gs.gate_counts}
        spec = auger_spectrum(
            mol, "q-sc-eom", ground_state=gs.sequence, label=method, ip_manifold=ip, dip_manifold=dip
        )
    peaks = spec.peaks(fwhm=1.5)
    return {
        "method": spec_id,
        "manifolds": [ip, dip],
        "core_hole_energy": spec.core_hole_energy,
        "ground": info,
        "peaks": peaks,
        "seconds": time.perf_counter() - t0,
        "total_rate_ev": float(spec.rates.sum()) * 27.211386,
        "lines": [
            [float(e), float(r), lab]
            for e, r, lab in zip(spec.kinetic_energies, spec.rates, spec.labels, strict=True)
            if r > 1e-7
        ],
    }


def entries(quick: bool) -> list[str]:
    ids = [f"fci-{c}" for c in FCI_CASES]
    mols = ["H2", "LiH"] if quick else ["H2", "LiH", "H2O"]
    ids += [f"vqe-{m}" for m in mols] + [f"gqe-{m}" for m in mols]
    augers = ["fci", "vqe", "gqe", "vqe-std", "gqe-std"]
    ids += ["auger-fci"] if quick else [f"auger-{a}" for a in augers]
    return ids


def run_entry(entry: str, quick: bool, runs: Path) -> dict:
    kind, _, arg = entry.partition("-")
    if kind == "fci":
        return run_fci(arg)
    if kind == "vqe":
        return run_vqe(arg, quick)
    if kind == "gqe":
        return run_gqe(arg, quick, runs)
    if kind == "auger":
        return run_auger(arg, quick, runs)
    raise ValueError(f"unknown entry {entry!r}")


def summarize(out: Path) -> dict:
    """Merge every finished entry into ``<out>/repro_chemistry.{json,md}``; return the summary."""
    rows = EntryStore(out / "repro_chemistry").load_all()
    lines = ["# Chemistry: reproduction", ""]
    fci = {k: v for k, v in rows.items() if k.startswith("fci-")}
    if fci:
        header = ["case", "qubits", "lowest eigenvalue (Ha)", "pyscf FCI (Ha)", "difference"]
        table = [
            [
                k[4:],
                v["n_qubits"],
                f"{v['lowest_eigenvalue']:.10f}",
                f"{v['pyscf_fci']:.10f}",
                f"{v['difference']:.1e}",
            ]
            for k, v in fci.items()
        ]
        lines += ["## Qubit Hamiltonian vs pyscf FCI/CASCI", "", *markdown_table(header, table), ""]
    gs = {k: v for k, v in rows.items() if k.startswith(("vqe-", "gqe-"))}
    if gs:
        table = []
        for k, v in gs.items():
            g = v["gate_counts"]
            method = k.split("-")[0].upper()
            if "settings" in v:
                method += f" ({v['settings']['loss']}, {v.get('iterations', '?')} it.)"
            table.append(
                [
                    k,
                    method,
                    v["molecule"],
                    v["n_qubits"],
                    f"{v['error'] * 1e3:.3f}",
                    v["chemical_accuracy"],
                    g["total"],
                    g["cx"],
                    f"{v['seconds']:.1f}",
                ]
            )
        header = [
            "run",
            "method",
            "molecule",
            "qubits",
            "error vs FCI (mHa)",
            "chem. acc.",
            "gates",
            "CX",
            "seconds",
        ]
        lines += ["## Ground states (STO-3G, full space)", "", *markdown_table(header, table)]
        ratios = [
            (m, rows[f"gqe-{m}"]["gate_counts"], rows[f"vqe-{m}"]["gate_counts"])
            for m in ("H2", "LiH", "H2O")
            if f"gqe-{m}" in rows and f"vqe-{m}" in rows
        ]
        if ratios:
            lines += [
                "",
                "GQE / VQE gate counts: "
                + "; ".join(
                    f"{m} total {g['total'] / q['total']:.2f}, CX {g['cx'] / q['cx']:.2f}"
                    for m, g, q in ratios
                ),
            ]
        lines.append("")
    aug = {k: v for k, v in rows.items() if k.startswith("auger-")}
    if aug:
        header = ["method", "core-hole state (Ha)", "peaks: kinetic energy eV (relative height)"]
        table = [
            [
                v["method"],
                f"{v['core_hole_energy']:.6f}",
                ", ".join(f"{e:.2f} ({h:.2f})" for e, h in v["peaks"]),
            ]
            for v in aug.values()
        ]
        lines += ["## Water Auger spectrum (O 1s, OCA, FWHM 1.5 eV)", "", *markdown_table(header, table)]
        ref = aug.get("auger-fci")
        if ref:
            header = ["method", *(f"{e:.2f}" for e, _ in ref["peaks"]), "max"]
            table = []
            for k, v in aug.items():
                if k == "auger-fci" or not v["peaks"]:
                    continue
                shifts = [min((e - e0 for e, _ in v["peaks"]), key=abs) for e0, _ in ref["peaks"]]
                largest = max(abs(d) for d in shifts)
                table.append([v["method"], *(f"{d:+.2f}" for d in shifts), f"{largest:.2f}"])
            lines += ["", "Shift of each FCI peak's nearest peak (eV):", "", *markdown_table(header, table)]
        pairs = [
            (g, q)
            for g, q in (("auger-gqe", "auger-vqe"), ("auger-gqe-std", "auger-vqe-std"))
            if g in aug and q in aug and aug[g]["peaks"] and aug[q]["peaks"]
        ]
        for g, q in pairs:  # the criterion: GQE's and VQE's spectra agree peak by peak
            shifts = [min((e - e0 for e, _ in aug[g]["peaks"]), key=abs) for e0, _ in aug[q]["peaks"]]
            lines += [
                "",
                f"{aug[g]['method']} vs {aug[q]['method']}: nearest-peak shifts "
                + ", ".join(f"{e0:.2f} {d:+.2f}" for (e0, _), d in zip(aug[q]["peaks"], shifts, strict=True))
                + f" eV; max {max(abs(d) for d in shifts):.2f} eV",
            ]
        lines.append("")
    machine = machine_summary(python=True)
    summary = {"machine": machine["platform"], "python": machine["python"], "entries": rows}
    write_results(out, "repro_chemistry", summary, lines)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = new_parser(__doc__)
    add_out(parser)
    add_entry_options(
        parser,
        runs=ROOT / "runs" / "repro_chemistry",
        runs_help="GQE checkpoints (resumed when present)",
        shard=False,
    )
    add_quick(parser, help="tiny settings (tests); results not kept")
    args = parser.parse_args(argv)
    store = EntryStore(args.out / "repro_chemistry")
    store.folder.mkdir(parents=True, exist_ok=True)
    if not args.summarize:
        for entry in args.only or entries(args.quick):
            if store.has(entry) and not args.quick:
                print(f"{entry}: done, skipped")
                continue
            t0 = time.perf_counter()
            result = run_entry(entry, args.quick, args.runs)
            result["wall_seconds"] = time.perf_counter() - t0
            result["git"] = git_commit(short=True) or ""
            store.save(entry, result)
            shown = {k: v for k, v in result.items() if k != "lines"}
            print(f"{entry}: {json.dumps(shown, default=float)[:300]}")
    summarize(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
