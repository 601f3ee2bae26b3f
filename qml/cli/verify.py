"""``ketml verify DIR``: the three folds (valid, real or random, structure) and novelty for any
folder of OpenQASM 2 circuits, against a corpus of real algorithm circuits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .app import app
from .common import cli_errors


@app.command()
def verify(
    folder: Annotated[Path, typer.Argument(help="Folder of .qasm files to verify.")],
    against: Annotated[
        str,
        typer.Option(help="Corpus of real circuits: algorithm-circuits or algorithm-circuits-quick."),
    ] = "algorithm-circuits",
    out: Annotated[
        Path | None, typer.Option(help="Folder for report.json and structure.png (default: none written).")
    ] = None,
    random_kind: Annotated[
        str,
        typer.Option(
            help="Random baseline: matched (gate frequencies of the corpus) or qiskit (random_circuit)."
        ),
    ] = "matched",
    epochs: Annotated[int, typer.Option(help="Epochs of the real-vs-random classifier.", min=1)] = 8,
    max_statevector_qubits: Annotated[
        int,
        typer.Option(help="Simulate circuits up to this width; wider ones get a gate count check.", min=1),
    ] = 12,
    seed: Annotated[int, typer.Option(help="Seed of the classifier and the random circuits.")] = 0,
    classifier: Annotated[
        Path | None,
        typer.Option(
            help="Saved verifier (real-vs-random classifier) to use; trained and saved there if missing. "
            "It must match the corpus's manifest checksum."
        ),
    ] = None,
    cache: Annotated[
        bool,
        typer.Option(
            "--cache/--no-cache",
            help="Reuse the verifier saved for this corpus and options under $KETML_DATA/verifiers "
            "(trained once), or train it now.",
        ),
    ] = True,
    data_root: Annotated[
        str | None, typer.Option(help="Folder of the corpus (default: $KETML_DATA/<corpus>).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bars.")] = True,
) -> None:
    """Verify a folder of circuits: valid fraction (with a reason per invalid file), the fraction a
    real-vs-random classifier calls real (with its held-out accuracy and AUC), structural distances
    to real circuits against a random baseline, and novelty (copies of training circuits)."""
    with cli_errors():
        from qml.generators.verify import list_qasm_files, verify_folder

        list_qasm_files(folder)  # a bad folder fails before the classifier is trained
        report = verify_folder(
            folder,
            against=against,
            data_root=data_root,
            out=out,
            max_statevector_qubits=max_statevector_qubits,
            progress=progress and not as_json,
            random_kind=random_kind,
            epochs=epochs,
            seed=seed,
            classifier=classifier,
            cache=cache,
        )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    held = report["classifier_heldout"]
    typer.echo(f"files: {report['n_files']}, valid: {report['n_valid']} ({report['valid_fraction']:.1%})")
    for bad in report["invalid"][:20]:
        typer.echo(f"  invalid {bad['file']}: {bad['reason']}")
    if len(report["invalid"]) > 20:
        typer.echo(f"  ... and {len(report['invalid']) - 20} more (see --json)")
    typer.echo(
        f"called real: {report.get('called_real_fraction', 0):.1%} of the valid circuits (classifier "
        f"held-out accuracy {held['accuracy']:.3f}, AUC {held['auc']:.3f}; random baseline called real: "
        f"{report.get('random_baseline_called_real_fraction', float('nan')):.1%})"
    )
    structure = report.get("structure")
    if structure:
        typer.echo("structure, Wasserstein distance to real / std (given vs random):")
        for m in structure["metrics"]:
            tag = " (matched)" if m in structure["matched_by_construction"] else ""
            given = structure["given_to_real"][m]
            rand = structure.get("random_to_real", {}).get(m, float("nan"))
            typer.echo(f"  {m:16s} {given:8.3f} {rand:8.3f}{tag}")
    novelty = report.get("novelty")
    if novelty:
        typer.echo(
            f"novelty: exact copies {novelty['exact_copy_fraction']:.1%}, near copies "
            f"{novelty['near_copy_fraction']:.1%} (similarity >= {novelty['near_threshold']})"
        )
    if out is not None:
        typer.echo(f"report: {out / 'report.json'}")
