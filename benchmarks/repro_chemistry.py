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
#: ~45 iterations; H2O uses the same GRPO recipe with more gates. The committed H2O run (200
#: iterations, full pool) stalled at 20.1 mHa; the lever study (``lever-H2O-*``) measured the
#: gradient-screened pool and an elite replay as the two largest gains, so the H2O run uses both and
#: re-optimises the best circuit's angles at the end (``refine_maxiter``), each token's rotation
#: bounded to |theta| <= 0.2 rad (``refine_max_angle``): unbounded, the refit gained 0.03 mHa with
#: two copies of one double at +1.22 / -1.40 rad, which moved the q-sc-EOM O 1s core hole 58 mHa
#: (``auger-gqe-unbounded``).
#: The loss's recipe (lr, inverse-temperature schedule, ...) is ``chemistry.gqe.GQE_RECIPES``.
GQE_SETTINGS = {
    "H2": dict(max_iters=60, num_samples=50, ngates=4, loss="exp", batch_size=50, buffer_size=50),
    "LiH": dict(max_iters=300, num_samples=100, ngates=20, loss="grpo", batch_size=100, buffer_size=200),
    "H2O": dict(
        max_iters=450,
        num_samples=100,
        ngates=40,
        loss="grpo",
        schedule="variance",
        batch_size=100,
        buffer_size=200,
        elite=20,
        refine_maxiter=300,
        refine_max_angle=0.2,
        pool=dict(screen=True),
    ),
}
#: Iteration at which the committed gqe-H2O run switched to the variance schedule (see the note).
GQE_SCHEDULE_SWITCH = {"H2O": 130}
#: How the committed gqe-H2O run was made (it is resumable, so it was resumed with a new schedule).
GQE_RUN_NOTES = {
    "H2O": "iterations 0-130 ran with the linear schedule (beta 1 + 0.1 per iteration); the sampler "
    "collapsed at beta ~13 (mean energy = best energy from iteration ~120), so the run was stopped and "
    "resumed from its iteration-130 checkpoint with the variance schedule (beta -0.1 while Var(E) < 1e-5)",
}
QUICK_GQE = {
    "H2": dict(max_iters=20, num_samples=20, ngates=4),
    "LiH": dict(max_iters=5, num_samples=10, ngates=8, batch_size=10),
    "H2O": dict(max_iters=3, num_samples=10, ngates=8, batch_size=10),
}
#: Lever study on H2O (``lever-<name>``): short runs of the committed H2O recipe with one change
#: each; ``pool`` options go to ``chemistry.gqe.pool.molecule_pool``. Every run's best circuit is
#: also re-optimised (one angle per token, structure unchanged) to show what the pool's discrete
#: angles cost.
LEVER_ITERS = 50
#: The committed H2O recipe the levers change (the gqe-H2O-v1 run: 20.1 mHa after 200 iterations).
LEVER_BASE = dict(num_samples=100, ngates=40, loss="grpo", batch_size=100, buffer_size=200)
LEVERS = {
    "base": {},
    "samples400": dict(num_samples=400),
    "beta-slow": dict(beta_step=0.05),
    "beta-fast": dict(beta_step=0.3),
    "pool-wide": dict(pool=dict(angles=tuple(s * 2**k / 160 for k in range(0, 6) for s in (1, -1)))),
    "pool-doubles": dict(pool=dict(singles=False)),
    "pool-screened": dict(pool=dict(screen=True)),
    "elite20": dict(elite=20),
    "model-4x128": dict(n_layer=4, n_embd=128),
    "ngates60": dict(ngates=60),
}
#: q-sc-EOM manifolds for the Auger entries: "std" is the paper's (1h+2h1p / 2h+3h1p); the default
#: adds 3h2p / 4h2p, which brings the core-hole relaxation within a few mHa of FCI.
MANIFOLDS = {"std": ("1h+2h1p", "2h+3h1p"), "ext": ("1h+2h1p+3h2p", "2h+3h1p+4h2p")}


def _gqe_config(name: str, quick: bool):
    from chemistry.gqe import GQE_RECIPES, GQEConfig

    settings = {**GQE_SETTINGS[name], **(QUICK_GQE[name] if quick else {})}
    settings.pop("pool", None)
    return GQEConfig(checkpoint_every=10, **{**GQE_RECIPES[settings["loss"]], **settings})


def _gqe_pool(name: str, mol):
    """The molecule's GQE pool with the options in ``GQE_SETTINGS[name]["pool"]`` (None: default)."""
    from chemistry.gqe.pool import molecule_pool

    options = GQE_SETTINGS[name].get("pool")
    return None if options is None else molecule_pool(mol, **options)


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
    pool = _gqe_pool(name, mol)
    gs = ground_state(mol, "gqe", gqe_config=cfg, out_dir=out, resume=resume, progress=not quick, pool=pool)
    run = json.loads((out / "gqe.json").read_text())
    fci = mol.energies["fci"]
    return _ground_state_entry(
        name,
        mol,
        gs,
        settings=cfg.__dict__,
        pool_options=GQE_SETTINGS[name].get("pool"),
        note=GQE_RUN_NOTES.get(name),
        schedule_switch=GQE_SCHEDULE_SWITCH.get(name),
        pool_size=len(pool) if pool is not None else None,
        sampled_error=run["sampled_energy"] - fci,
        distinct_excitations=len({n.split(")(")[0] for n in run["names"] if n != "I"}),
        best_curve_mha=[(e - fci) * 1e3 for e in run["history"]["best"]],
    )


def run_lever(lever: str, quick: bool) -> dict:
    """One short H2O GQE run of the lever study; the best circuit before and after refinement."""
    from chemistry.circuit_cost import gate_counts
    from chemistry.gqe import GQE_RECIPES, GQEConfig, run_gqe
    from chemistry.gqe.pool import molecule_pool
    from chemistry.gqe.refine import refine_angles

    mol = _molecule("H2O")
    change = dict(LEVERS[lever])
    pool = molecule_pool(mol, **change.pop("pool", {}))
    settings = {**LEVER_BASE, "max_iters": LEVER_ITERS, **change}
    if quick:
        settings.update(QUICK_GQE["H2O"])
    cfg = GQEConfig(checkpoint_every=0, **{**GQE_RECIPES[settings["loss"]], **settings})
    fci = mol.energies["fci"]
    result = run_gqe(mol.hamiltonian, pool, mol.hf_bitstring, cfg, progress=False)
    refined = refine_angles(mol.hamiltonian, pool, result.tokens, mol.hf_bitstring, maxiter=200)
    return {
        "lever": lever,
        "change": LEVERS[lever],
        "pool_size": len(pool),
        "error": result.energy - fci,
        "refined_error": refined.energy - fci,
        "best_curve_mha": [(e - fci) * 1e3 for e in result.history["best"]],
        "seconds": result.seconds,
        "refine_seconds": refined.seconds,
        "n_evaluations": result.n_evaluations,
        "gate_counts": gate_counts(result.sequence.to_circuit(mol.hf_bitstring)),
        "refined_gate_counts": gate_counts(refined.sequence.simplified().to_circuit(mol.hf_bitstring)),
        "tokens": result.names,
        "settings": cfg.__dict__,
    }


def run_floor(quick: bool) -> dict:
    """What the pool's operators can reach with free angles: the K excitations with the largest
    energy gradient at HF, each once (largest first), angles optimised (L-BFGS)."""
    import numpy as np

    from chemistry.gqe.pool import molecule_pool
    from chemistry.gqe.refine import refine_angles
    from chemistry.gqe.sector import initial_gradients

    mol = _molecule("H2O")
    pool = molecule_pool(mol)
    fci = mol.energies["fci"]
    grad = initial_gradients(pool, mol.hamiltonian, mol.hf_bitstring)
    # one token per excitation (its largest positive angle), ranked by |gradient|
    per_exc: dict[str, int] = {}
    for j, name in enumerate(pool.names[1:], start=1):
        key = name.split(")(")[0]
        if key not in per_exc or pool.tokens[j][0][1] > pool.tokens[per_exc[key]][0][1]:
            per_exc[key] = j
    ranked = sorted(per_exc.values(), key=lambda j: -abs(grad[j]))
    nonzero = int(sum(abs(grad[j]) > 1e-8 for j in ranked))
    counts = [5, 10] if quick else [5, 10, 15, 20, nonzero, len(ranked)]
    rows = []
    for k in counts:
        r = refine_angles(mol.hamiltonian, pool, ranked[:k], mol.hf_bitstring, maxiter=300)
        rows.append({"excitations": k, "error": r.energy - fci, "seconds": r.seconds})
    return {
        "excitations": len(ranked),
        "nonzero_gradient": nonzero,
        "largest_gradients": [[pool.names[j].split(")(")[0] + ")", float(grad[j])] for j in ranked[:5]],
        "rows": rows,
        "hf_error": mol.energies["hf"] - fci,
        "gradient_tolerance": 1e-8,
        "max_abs_gradient": float(np.abs(grad).max()),
    }


def run_profile(quick: bool) -> dict:
    """Seconds per GQE iteration on H2O (committed recipe): sampling, energies (full state vector
    vs reachable sector, and their largest difference), training steps."""
    import numpy as np
    import torch

    from chemistry.gqe import GQE_RECIPES, GQEConfig
    from chemistry.gqe.energy import CandidateEnergies
    from chemistry.gqe.model import grpo_loss, make_model, sample
    from chemistry.gqe.pool import molecule_pool

    mol = _molecule("H2O")
    pool = molecule_pool(mol)
    settings = {**LEVER_BASE, **(QUICK_GQE["H2O"] if quick else {})}
    cfg = GQEConfig(**GQE_RECIPES["grpo"], **settings)
    model = make_model(len(pool), cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(0)
    engines = {
        e: CandidateEnergies(mol.hamiltonian, pool, mol.hf_bitstring, engine=e)
        for e in ("statevector", "sector")
    }
    setup = {}
    for name, cost in engines.items():
        t0 = time.perf_counter()
        cost(torch.zeros(1, 1, dtype=torch.long))
        setup[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    seq, logp = sample(model, cfg.num_samples, cfg.ngates, cfg.beta0, gen)
    t_sample = time.perf_counter() - t0
    energy, seconds = {}, {}
    for name, cost in engines.items():
        t0 = time.perf_counter()
        energy[name] = cost(seq[:, 1:])
        seconds[name] = time.perf_counter() - t0
    e = torch.as_tensor(energy["sector"])
    t0 = time.perf_counter()
    for _ in range(cfg.steps_per_iter):
        loss = grpo_loss(model, seq, e, logp, cfg.beta0, cfg.clip_ratio, seq[0], cfg.best_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
    t_train = time.perf_counter() - t0
    return {
        "candidates": cfg.num_samples,
        "ngates": cfg.ngates,
        "sector_dimension": int(engines["sector"].sector()[0].basis.size),
        "setup_seconds": setup,
        "sample_seconds": t_sample,
        "energy_seconds": seconds,
        "train_seconds": t_train,
        "max_energy_difference": float(np.abs(energy["sector"] - energy["statevector"]).max()),
    }


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
            pool=_gqe_pool("H2O", mol) if method == "gqe" else None,
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


def run_corehole(quick: bool) -> dict:
    """Why a refit can move the Auger lines: the O 1s core-hole state from q-sc-EOM (extended IP
    manifold) on the committed gqe-H2O circuit's tokens at the sampled angles, refit with and without
    the angle bound, and on HF (U = 1), against FCI's core hole. q-sc-EOM uses U on the ionised
    determinants, so circuits with nearly the same U|HF> can give different core holes."""
    import numpy as np

    from chemistry import eom
    from chemistry.gqe.refine import _blocks, refine_angles

    mol = _molecule("H2O")
    pool = _gqe_pool("H2O", mol)
    names = json.loads((Path(__file__).parent / "results/repro_chemistry/gqe-H2O.json").read_text())["tokens"]
    tokens = [pool.names.index(n) for n in names]
    h, n, hf, fci = mol.hamiltonian, mol.n_qubits, mol.hf_bitstring, mol.energies["fci"]
    core = 0  # O 1s alpha
    e0, psi0 = mol.exact_ground_state()
    exact = eom.exact_ionised_states(h, n, mol.n_alpha - 1, mol.n_beta, hf_bitstring=hf)
    ref = eom.core_hole_state(exact, core, ground_state=psi0)
    manifold = eom.ip_manifold(hf, MANIFOLDS["ext"][0], spin_z=-0.5)
    bound = GQE_SETTINGS["H2O"]["refine_max_angle"]
    maxiter = 5 if quick else GQE_SETTINGS["H2O"]["refine_maxiter"]
    capped = refine_angles(h, pool, tokens, hf, maxiter=maxiter, max_angle=bound)
    free = refine_angles(h, pool, tokens, hf, maxiter=maxiter)
    sampled_theta = max(sum(abs(t) for _, t in steps) for steps in _blocks(pool, tokens))
    circuits = {  # label: (U, <H> of U|HF>, largest token rotation |theta|)
        "hf": (None, mol.energies["hf"], 0.0),
        "sampled": (pool.sequence(tokens), capped.energy_before, sampled_theta),
        f"refit |theta| <= {bound}": (capped.sequence, capped.energy, float(capped.rotation_angles.max())),
        "refit unbounded": (free.sequence, free.energy, float(free.rotation_angles.max())),
    }
    rows = []
    for label, (seq, energy, theta) in circuits.items():
        t0 = time.perf_counter()
        ip = eom.q_sc_eom(h, hf, None if seq is None else seq.simplified(atol=1e-6), manifold)
        hole = eom.core_hole_state(ip, core)
        rows.append(
            {
                "circuit": label,
                "ground_error": energy - fci,
                "max_rotation": theta,
                "core_hole_energy": hole.energy,
                "core_hole_error": hole.energy - ref.energy,
                "core_hole_weight": hole.weight,
                "fci_core_hole_in_span": float(np.sum(np.abs(ip.states.conj() @ ref.state) ** 2)),
                "seconds": time.perf_counter() - t0,
            }
        )
    return {
        "fci_core_hole": ref.energy,
        "fci_core_hole_weight": ref.weight,
        "ip_manifold": manifold.name,
        "manifold_size": len(manifold),
        "rows": rows,
    }


def entries(quick: bool) -> list[str]:
    ids = [f"fci-{c}" for c in FCI_CASES]
    mols = ["H2", "LiH"] if quick else ["H2", "LiH", "H2O"]
    ids += [f"vqe-{m}" for m in mols] + [f"gqe-{m}" for m in mols]
    augers = ["fci", "vqe", "gqe", "vqe-std", "gqe-std"]
    ids += ["auger-fci"] if quick else [f"auger-{a}" for a in augers]
    ids += [] if quick else ["profile-gqe-H2O", "floor-H2O", *(f"lever-H2O-{k}" for k in LEVERS)]
    ids += [] if quick else ["auger-hf", "corehole-H2O"]
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
    if kind == "lever":
        return run_lever(arg.partition("-")[2], quick)
    if kind == "profile":
        return run_profile(quick)
    if kind == "floor":
        return run_floor(quick)
    if kind == "corehole":
        return run_corehole(quick)
    raise ValueError(f"unknown entry {entry!r}")


def _plot_curves(rows: dict, path: Path) -> None:
    """Best energy error (mHa, log scale) per iteration of the H2O GQE runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for key, v in rows.items():
        if key.startswith("lever-"):
            ax.plot(v["best_curve_mha"], lw=1, alpha=0.8, label=key[len("lever-H2O-") :])
        elif key.startswith("gqe-H2O") and v.get("best_curve_mha"):
            curve = v["best_curve_mha"]
            ax.plot(curve, lw=2.2, color="k", label=f"{key} (long run, sampled)")
            ax.plot([len(curve) - 1], [v["error"] * 1e3], "k*", ms=10, label=f"{key}, angles refit")
            if v.get("schedule_switch"):
                ax.axvline(v["schedule_switch"], color="gray", ls=":", lw=1, label="variance schedule")
    ax.axhline(CHEMICAL_ACCURACY * 1e3, color="r", ls="--", lw=1, label="1.6 mHa")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("best sampled E - E_FCI (mHa)")
    ax.set_title("GQE on H2O (STO-3G, 14 qubits): best circuit so far")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _target_lines(rows: dict) -> list[str]:
    """The issue's H2O target, measured: energy (sampled and angle-refined), gates vs VQE, Auger."""
    g, q = rows.get("gqe-H2O"), rows.get("vqe-H2O")
    if not g or "sampled_error" not in g:
        return []
    err, sampled = g["error"] * 1e3, g["sampled_error"] * 1e3
    lines = [
        "## H2O target: <= 1.6 mHa, fewer gates than VQE, Auger peaks within 0.1 eV of FCI",
        "",
        f"- gqe-H2O ({g.get('iterations', '?')} iterations, pool {g.get('pool_size')} tokens, "
        f"{g['settings']['num_samples']} candidates per iteration, elite {g['settings']['elite']}): "
        f"best sampled circuit {sampled:.2f} mHa above FCI; with its angles re-optimised "
        f"(same operators and gate count{_bound_text(g)}) {err:.2f} mHa: chemical accuracy "
        f"{'reached' if abs(err) <= 1.6 else 'not reached'}"
        f"{' (by the sampler alone)' if sampled <= 1.6 else ''}.",
    ]
    if g.get("note"):
        lines.append(f"- how it ran: {g['note']}.")
    if q:
        gc, qc = g["gate_counts"], q["gate_counts"]
        lines.append(
            f"- gates: GQE {gc['total']} ({gc['cx']} CX) vs VQE-UCCSD {qc['total']} ({qc['cx']} CX): "
            f"ratio {gc['total'] / qc['total']:.2f} (CX {gc['cx'] / qc['cx']:.2f})."
        )
    a, f = rows.get("auger-gqe"), rows.get("auger-fci")
    if a and f and a["peaks"]:
        shifts = [min((e - e0 for e, _ in a["peaks"]), key=abs) for e0, _ in f["peaks"]]
        worst = max(abs(d) for d in shifts)
        lines.append(
            f"- Auger (q-sc-EOM on this circuit, extended manifolds): largest shift of the five main FCI "
            f"peaks {worst:.2f} eV: {'within' if worst <= 0.1 else 'outside'} 0.1 eV."
        )
        holes = [
            f"{k[6:]} {(r['core_hole_energy'] - f['core_hole_energy']) * 1e3:+.1f}"
            for k, r in rows.items()
            if k.startswith("auger-") and "std" not in k and k != "auger-fci"
        ]
        lines.append("- O 1s core-hole state minus FCI's (mHa): " + ", ".join(holes) + ".")
        v = rows.get("auger-vqe")
        if v and v["peaks"]:
            vq = max(abs(min((e - e0 for e, _ in v["peaks"]), key=abs)) for e0, _ in f["peaks"])
            lines.append(
                f"- reference: the same q-sc-EOM on the VQE circuit ({v['ground']['error'] * 1e3:.2f} mHa "
                f"above FCI) shifts them by up to {vq:.2f} eV"
                + (": the manifolds, not the ground state, set this floor." if vq > 0.1 else ".")
            )
        hf_, core = rows.get("auger-hf"), (a["core_hole_energy"] - f["core_hole_energy"]) * 27.211386
        if hf_ and hf_["peaks"] and v and v["peaks"]:
            hq = max(abs(min((e - e0 for e, _ in hf_["peaks"]), key=abs)) for e0, _ in f["peaks"])
            gv = max(abs(min((e - e0 for e, _ in a["peaks"]), key=abs)) for e0, _ in v["peaks"])
            lines.append(
                f"- what is left of the {worst:.2f} eV: the core hole's own error ({core:+.2f} eV from "
                "FCI's; the dication states' errors offset it on the other lines). The manifolds alone "
                f"(U = 1, auger-hf) give {hq:.2f} eV, the "
                f"VQE circuit {vq:.2f} eV; GQE and VQE spectra agree to {gv:.2f} eV. So with these "
                "manifolds the remaining shift is q-sc-EOM's truncation on a correlated U, not the circuit."
            )
    lines += _corehole_lines(rows)
    floor = rows.get("floor-H2O")
    if floor and abs(err) > 1.6:
        need = next((r["excitations"] for r in floor["rows"] if r["error"] * 1e3 <= 1.6), None)
        lines.append(
            f"- cause: the angles are not the limit (re-optimising them leaves {err:.2f} mHa); the "
            f"operators are: the circuit holds {g.get('distinct_excitations', '?')} distinct excitations, "
            f"and with free angles the {need} largest-gradient excitations are needed for 1.6 mHa "
            "(table above)."
        )
    lines += [
        "",
        "    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/repro_chemistry.py --only gqe-H2O",
        "    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/repro_chemistry.py "
        "--only auger-gqe floor-H2O",
        "    nice -n 19 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/repro_chemistry.py "
        "--only auger-hf corehole-H2O auger-gqe-std",
    ]
    return [*lines, ""]


def _bound_text(entry: dict) -> str:
    bound = entry.get("settings", {}).get("refine_max_angle")
    return f", each token's rotation |theta| <= {bound} rad" if bound else ""


def _corehole_lines(rows: dict) -> list[str]:
    """The measured cause of the earlier 1.56 eV Auger shift: the core hole per circuit."""
    c = rows.get("corehole-H2O")
    if not c:
        return []
    table = [
        [
            r["circuit"].replace("|theta|", "θ"),
            f"{r['ground_error'] * 1e3:.3f}",
            f"{r['max_rotation']:.3f}",
            f"{r['core_hole_error'] * 1e3:+.2f}",
            f"{r['core_hole_error'] * 27.211386:+.3f}",
            f"{r['core_hole_weight']:.3f}",
            f"{r['fci_core_hole_in_span']:.5f}",
        ]
        for r in c["rows"]
    ]
    rows_by = {r["circuit"]: r for r in c["rows"]}
    free, hf = rows_by.get("refit unbounded"), rows_by.get("hf")
    lines = [
        "",
        f"Cause of the earlier 1.56 eV shift (`corehole-H2O`): the O 1s core-hole state from q-sc-EOM "
        f"({c['ip_manifold']}, {c['manifold_size']} operators) on the gqe-H2O tokens, against FCI's "
        f"core hole ({c['fci_core_hole']:.6f} Ha):",
        "",
        *markdown_table(
            [
                "circuit U",
                "E0 - FCI (mHa)",
                "largest token θ (rad)",
                "core hole - FCI (mHa)",
                "(eV)",
                "1h weight",
                "FCI core hole's weight in the q-sc-EOM space",
            ],
            table,
        ),
        "",
        "- q-sc-EOM builds the ionised states from U G_mu|HF>, so it uses U on the core-ionised "
        "determinants, not only on |HF>. Root selection is not the cause: for the unbounded refit "
        "the picked root is the only one within 0.6 Ha of FCI's core hole, and picking by overlap "
        "with a_1s|Psi0> (as for FCI) gives the same root. Its space holds less of FCI's core hole "
        "(last column).",
    ]
    if free:
        lines.append(
            f"- The unbounded refit reaches {free['ground_error'] * 1e3:.3f} mHa with token rotations up to "
            f"{free['max_rotation']:.2f} rad (two copies of one double at about +1.2 and -1.4 rad that "
            "nearly cancel on |HF>); on the ionised determinants they do not cancel, and its core hole "
            f"is {free['core_hole_error'] * 1e3:+.1f} mHa "
            f"({free['core_hole_error'] * 27.211386:+.2f} eV) off: "
            "every kinetic energy E(core hole) - E(dication) carries that error (auger-gqe-unbounded: "
            "peaks up to 1.56 eV off). The bounded refit keeps the ground-state energy and the core hole."
        )
    if hf:
        lines.append(
            f"- On HF (U = 1) the same manifold puts the core hole {hf['core_hole_error'] * 1e3:+.2f} mHa "
            "from FCI: the manifold's own floor (auger-hf has the whole spectrum for U = 1)."
        )
    return lines


def _gqe_study_lines(rows: dict, out: Path) -> list[str]:
    """The H2O GQE profile, the lever table and the curve figure."""
    lines: list[str] = []
    prof = rows.get("profile-gqe-H2O")
    if prof:
        e = prof["energy_seconds"]
        lines += [
            f"## GQE H2O: one iteration ({prof['candidates']} candidates x {prof['ngates']} tokens, seconds)",
            "",
            *markdown_table(
                ["sampling", "energies: state vector", "energies: sector", "speed-up", "training (5 steps)"],
                [
                    [
                        f"{prof['sample_seconds']:.2f}",
                        f"{e['statevector']:.2f}",
                        f"{e['sector']:.3f}",
                        f"{e['statevector'] / e['sector']:.0f}x",
                        f"{prof['train_seconds']:.2f}",
                    ]
                ],
            ),
            "",
            f"Sector: the {prof['sector_dimension']} determinants the pool reaches from HF; the two "
            f"energy paths differ by at most {prof['max_energy_difference']:.1e} Ha on these candidates.",
            "",
        ]
    floor = rows.get("floor-H2O")
    if floor:
        lines += [
            "## What the excitation pool can reach (H2O, angles free)",
            "",
            f"{floor['excitations']} excitations in the pool (O 1s frozen), "
            f"{floor['nonzero_gradient']} with a nonzero energy gradient at HF (HF is "
            f"{floor['hf_error'] * 1e3:.2f} mHa above FCI). The K "
            "largest-gradient excitations, each once, angles optimised by L-BFGS:",
            "",
            *markdown_table(
                ["K", "error vs FCI (mHa)"],
                [[r["excitations"], f"{r['error'] * 1e3:.3f}"] for r in floor["rows"]],
            ),
            "",
        ]
    levers = {k: v for k, v in rows.items() if k.startswith("lever-")}
    if levers:
        table = [
            [
                v["lever"],
                json.dumps(v["change"]) if v["change"] else "(committed recipe)",
                v["pool_size"],
                f"{v['error'] * 1e3:.2f}",
                f"{v['best_curve_mha'][len(v['best_curve_mha']) // 2 - 1]:.2f}",
                f"{v['refined_error'] * 1e3:.2f}",
                v["gate_counts"]["cx"],
                v["refined_gate_counts"]["cx"],
                f"{v['seconds']:.0f}",
            ]
            for v in levers.values()
        ]
        header = [
            "lever",
            "change",
            "pool",
            f"best after {LEVER_ITERS} it. (mHa)",
            f"after {LEVER_ITERS // 2} it.",
            "angles refined (mHa)",
            "CX",
            "CX refined",
            "wall s (shared machine)",
        ]
        lines += [
            f"## GQE H2O levers ({LEVER_ITERS} iterations each, one change to the committed recipe)",
            "",
            *markdown_table(header, table),
            "",
            "    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/repro_chemistry.py "
            "--only profile-gqe-H2O " + " ".join(levers),
            "",
        ]
    lines += _target_lines(rows)
    if levers or any(k.startswith("gqe-H2O") and v.get("best_curve_mha") for k, v in rows.items()):
        _plot_curves(rows, out / "repro_chemistry" / "gqe_h2o_curve.png")
        lines += ["Curves: `repro_chemistry/gqe_h2o_curve.png`.", ""]
    return lines


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
                refit = ", angles refit" if v["settings"].get("refine_maxiter") else ""
                method += f" ({v['settings']['loss']}, {v.get('iterations', '?')} it.{refit})"
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
    lines += _gqe_study_lines(rows, out)
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
