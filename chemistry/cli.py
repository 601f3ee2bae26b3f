"""``ketml chem``: molecules, VQE, GQE and Auger spectra from the command line.

Registered on ``ketml`` by the ``ketml.commands`` entry point ``chem = "chemistry.cli:app"``
(pyproject.toml): ``qml`` never imports ``chemistry``.

Each verb writes its results as JSON (and plots as PNG) into ``--out``; expected failures (unknown
molecule, bad active space, missing pyscf/transformers) print one line and exit with status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qml.cli.common import CliError, cli_errors

app = typer.Typer(
    name="chem",
    help="Chemistry: molecular Hamiltonians, VQE, GQE and Auger spectra (needs pyscf).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

MoleculeOpt = Annotated[
    str, typer.Option("--molecule", "-m", help="H2, LiH, BeH2, N2, H2O, or an XYZ string 'O 0 0 0; H 0 0 1'.")
]
BasisOpt = Annotated[str, typer.Option(help="Basis set (pyscf name).")]
ActiveOpt = Annotated[
    str | None,
    typer.Option(help="Active space 'n_electrons,n_orbitals' (default: all orbitals)."),
]
BondOpt = Annotated[float | None, typer.Option(help="Bond length in Angstrom (named molecules).")]
OutOpt = Annotated[Path, typer.Option(help="Folder for the JSON results and plots.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bars.")]


def _molecule(name: str, basis: str, active: str | None, bond: float | None):
    from chemistry import molecule

    active_space = None
    if active:
        try:
            n_e, n_o = (int(v) for v in active.split(","))
        except ValueError:
            raise CliError(f"--active-space must be 'n_electrons,n_orbitals', got {active!r}") from None
        active_space = (n_e, n_o)
    try:  # bad input raises a ChemistryError (a KetmlError): cli_errors prints it
        return molecule(name, basis=basis, active_space=active_space, bond_length=bond)
    except ImportError as exc:  # pyscf missing
        raise CliError(str(exc)) from None


def _gqe_config(iters: int, samples: int, ngates: int, loss: str, lr: float, seed: int):
    """``GQEConfig`` from the loss's recipe (``chemistry.gqe.GQE_RECIPES``) and the options."""
    from chemistry.gqe import GQE_RECIPES, GQEConfig

    if loss not in GQE_RECIPES:
        raise CliError(f"--loss must be one of {', '.join(GQE_RECIPES)}, got {loss!r}")
    return GQEConfig(
        **{**GQE_RECIPES[loss], "lr": lr},
        max_iters=iters,
        num_samples=samples,
        ngates=ngates,
        loss=loss,
        seed=seed,
        batch_size=samples,
        buffer_size=2 * samples,
    ).check()


def _write(out: Path, name: str, payload: dict) -> Path:
    """``payload`` as ``out/name``, atomically (a reader never sees half a file)."""
    from circuits.files import write_json

    return write_json(out / name, payload, default=float)


def _check_out(out: Path) -> None:
    """``--out`` must be a folder that can be written: checked before any work is done."""
    from circuits.files import check_output_dir

    check_output_dir(out)


@app.command("molecule")
def molecule_cmd(
    molecule: MoleculeOpt = "H2",
    basis: BasisOpt = "sto-3g",
    active_space: ActiveOpt = None,
    bond_length: BondOpt = None,
) -> None:
    """Print a molecule's qubit count, electrons and pyscf reference energies (HF, CCSD, FCI)."""
    with cli_errors():
        mol = _molecule(molecule, basis, active_space, bond_length)
        typer.echo(
            f"{mol.name}: {mol.n_qubits} qubits, {mol.n_electrons} active electrons, "
            f"{len(mol.hamiltonian)} Pauli terms"
        )
        for key, value in mol.energies.items():
            typer.echo(f"  E_{key:<5} = {value:.10f} Ha")


@app.command("gqe")
def gqe_cmd(
    molecule: MoleculeOpt = "H2",
    basis: BasisOpt = "sto-3g",
    active_space: ActiveOpt = None,
    bond_length: BondOpt = None,
    pool: Annotated[
        str, typer.Option(help="excitation (N-conserving rotations) or pauli (UCCSD strings).")
    ] = "excitation",
    iters: Annotated[int, typer.Option(help="GQE iterations (max).", min=1)] = 100,
    samples: Annotated[int, typer.Option(help="Candidate circuits per iteration.", min=1)] = 50,
    ngates: Annotated[int, typer.Option(help="Tokens (operators) per circuit.", min=1)] = 20,
    loss: Annotated[
        str,
        typer.Option(
            help="grpo or exp (logit matching); each with its recipe "
            "(inverse-temperature schedule, steps per iteration)."
        ),
    ] = "grpo",
    lr: Annotated[float, typer.Option(help="AdamW learning rate of the GPT-2.")] = 1e-3,
    seed: Annotated[int, typer.Option(help="Seed of the model and the sampler.")] = 3047,
    out: OutOpt = Path("runs/gqe"),
    resume: Annotated[bool, typer.Option(help="Continue from OUT/checkpoint.pt.")] = False,
    progress: ProgressOpt = True,
) -> None:
    """Train a GPT-2 to write the molecule's ground-state circuit (GQE); stops at chemical accuracy."""
    with cli_errors():
        from chemistry.gqe import run_gqe
        from chemistry.gqe.pool import excitation_pool, uccsd_string_pool

        _check_out(out)
        mol = _molecule(molecule, basis, active_space, bond_length)
        if pool not in ("excitation", "pauli"):
            raise CliError(f"--pool must be excitation or pauli, got {pool!r}")
        make = excitation_pool if pool == "excitation" else uccsd_string_pool
        ops = make(mol.n_qubits, mol.n_alpha, mol.n_beta)
        cfg = _gqe_config(iters, samples, ngates, loss, lr, seed)
        result = run_gqe(
            mol.hamiltonian,
            ops,
            mol.hf_bitstring,
            cfg,
            out_dir=out,
            resume=resume,
            progress=progress,
            target=mol.energies["fci"],
        )
        counts = result.gate_counts()
        error = result.energy - mol.energies["fci"]
        _write(
            out,
            "result.json",
            {
                "molecule": mol.name,
                "energy": result.energy,
                "error_vs_fci": error,
                "energies": mol.energies,
                "gate_counts": counts,
                "tokens": result.names,
                "seconds": result.seconds,
                "n_evaluations": result.n_evaluations,
            },
        )
        typer.echo(
            f"GQE {mol.name}: E = {result.energy:.8f} Ha, error vs FCI {error * 1e3:.3f} mHa, "
            f"{counts['total']} gates ({counts['cx']} CX); results in {out}"
        )


@app.command("vqe")
def vqe_cmd(
    molecule: MoleculeOpt = "H2",
    basis: BasisOpt = "sto-3g",
    active_space: ActiveOpt = None,
    bond_length: BondOpt = None,
    ansatz: Annotated[
        str, typer.Option(help="uccsd, hea (hardware-efficient) or adapt (ADAPT-VQE).")
    ] = "uccsd",
    optimizer: Annotated[str, typer.Option(help="lbfgs, adam or scipy:<method>.")] = "lbfgs",
    maxiter: Annotated[int, typer.Option(help="Optimiser iterations.", min=1)] = 200,
    engine: Annotated[str, typer.Option("--engine", "-e", help="Engine (see 'ketml engines').")] = "torch",
    out: OutOpt = Path("runs/vqe"),
    progress: ProgressOpt = True,
) -> None:
    """Run VQE (UCCSD, hardware-efficient or ADAPT) and report the energy, error and gate counts."""
    with cli_errors():
        from chemistry.vqe import adapt_vqe, run_vqe
        from qml.training.experiment import check_engine

        _check_out(out)
        check_engine(engine)
        mol = _molecule(molecule, basis, active_space, bond_length)
        if ansatz == "adapt":
            result = adapt_vqe(mol, engine=engine, progress=progress)
        else:
            result = run_vqe(
                mol, ansatz, optimizer=optimizer, maxiter=maxiter, engine=engine, progress=progress
            )
        _write(
            out,
            "result.json",
            {
                "molecule": mol.name,
                "ansatz": ansatz,
                "energy": result.energy,
                "error_vs_fci": result.error,
                "energies": mol.energies,
                "gate_counts": result.gate_counts,
                "seconds": result.seconds,
                "history": list(map(float, result.history)),
            },
        )
        typer.echo(
            f"VQE-{ansatz} {mol.name}: E = {result.energy:.8f} Ha, error vs FCI "
            f"{result.error * 1e3:.3f} mHa, {result.gate_counts['total']} gates "
            f"({result.gate_counts['cx']} CX); results in {out}"
        )


@app.command("auger")
def auger_cmd(
    molecule: MoleculeOpt = "H2O",
    basis: BasisOpt = "sto-3g",
    method: Annotated[
        str, typer.Option(help="fci (classical reference), gqe or vqe (q-sc-EOM on its circuit).")
    ] = "fci",
    core_orbital: Annotated[
        int, typer.Option(help="Spatial orbital of the core hole (0: the emitter 1s).")
    ] = 0,
    fwhm: Annotated[float, typer.Option(help="Lorentzian broadening (eV, full width at half max).")] = 1.5,
    iters: Annotated[int, typer.Option(help="GQE iterations (method gqe).", min=1)] = 100,
    samples: Annotated[int, typer.Option(help="GQE candidates per iteration.", min=1)] = 50,
    ngates: Annotated[int, typer.Option(help="GQE tokens per circuit.", min=1)] = 20,
    loss: Annotated[str, typer.Option(help="GQE loss: grpo or exp (logit matching).")] = "grpo",
    lr: Annotated[float, typer.Option(help="GQE learning rate.")] = 1e-3,
    seed: Annotated[int, typer.Option(help="GQE seed.")] = 3047,
    ip_manifold: Annotated[
        str,
        typer.Option(
            help="q-sc-EOM operators for the core-hole (N-1) states: 1h, 2h1p, 3h2p joined by '+', or full."
        ),
    ] = "1h+2h1p+3h2p",
    dip_manifold: Annotated[
        str,
        typer.Option(
            help="q-sc-EOM operators for the final (N-2) states: 2h, 3h1p, 4h2p joined by '+', or full."
        ),
    ] = "2h+3h1p+4h2p",
    out: OutOpt = Path("runs/auger"),
    progress: ProgressOpt = True,
) -> None:
    """Auger spectrum (one-centre approximation); writes spectrum.json and spectrum.png."""
    with cli_errors():
        from chemistry.auger import auger_spectrum
        from chemistry.workflow import ground_state

        if method not in ("fci", "gqe", "vqe"):
            raise CliError(f"--method must be fci, gqe or vqe, got {method!r}")
        _check_out(out)
        mol = _molecule(molecule, basis, None, None)
        info = {}
        if method == "fci":
            spec = auger_spectrum(mol, "fci", core_orbital=core_orbital)
        else:
            from chemistry.eom import dip_manifold as check_dip
            from chemistry.eom import ip_manifold as check_ip

            check_ip(mol.hf_bitstring, ip_manifold)  # bad manifolds fail before the ground state
            check_dip(mol.hf_bitstring, dip_manifold)
            cfg = _gqe_config(iters, samples, ngates, loss, lr, seed)
            gs = ground_state(mol, method, gqe_config=cfg, out_dir=out / "ground_state", progress=progress)
            info = {
                "ground_energy": gs.energy,
                "error_vs_fci": gs.error,
                "gate_counts": gs.gate_counts,
                "seconds": gs.seconds,
                **gs.info,
            }
            spec = auger_spectrum(
                mol,
                "q-sc-eom",
                ground_state=gs.sequence,
                core_orbital=core_orbital,
                label=method,
                ip_manifold=ip_manifold,
                dip_manifold=dip_manifold,
            )
        peaks = spec.peaks(fwhm=fwhm)
        _write(
            out,
            "spectrum.json",
            {
                "molecule": mol.name,
                "basis": basis,
                "method": method,
                "fwhm_ev": fwhm,
                "manifolds": None if method == "fci" else [ip_manifold, dip_manifold],
                "core_hole_energy": spec.core_hole_energy,
                "ground_state": info,
                "peaks": [{"kinetic_energy_ev": e, "relative_height": h} for e, h in peaks],
                "lines": [
                    {"kinetic_energy_ev": float(e), "rate": float(r), "final_state": lab}
                    for e, r, lab in zip(spec.kinetic_energies, spec.rates, spec.labels, strict=True)
                ],
            },
        )
        spec.plot(out / "spectrum.png", fwhm=fwhm)
        typer.echo(
            f"Auger spectrum of {mol.name} ({method}): peaks at "
            + ", ".join(f"{e:.2f} eV ({h:.2f})" for e, h in peaks)
            + f"; written to {out}"
        )
