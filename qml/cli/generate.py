"""``ketml generate``: models that write circuits. ``ketml generate ketgpt --model RUN --n 100 --out DIR``
draws circuits from a trained KetGPT run; other generators join this group as commands of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import app
from .common import CliError, cli_errors

generate_app = typer.Typer(
    help="Generate circuits with a trained generator (KetGPT; train one with 'ketml train ketgpt').",
    no_args_is_help=True,
)


@generate_app.command("ketgpt")
def ketgpt(
    model: Annotated[
        Path,
        typer.Option("--model", "-m", help="Run folder of 'ketml train ketgpt' (model.pt, tokenizer.json)."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder the .qasm files are written to.")],
    n: Annotated[int, typer.Option("--n", help="Number of circuits.", min=1)] = 100,
    qubits: Annotated[
        int | None,
        typer.Option(
            help="N of the prompt's 'qreg q[N];' (default: drawn from the training circuits' widths).", min=1
        ),
    ] = None,
    temperature: Annotated[
        float, typer.Option(help="Sampling temperature; 0 draws greedily.", min=0.0)
    ] = 1.0,
    top_k: Annotated[
        int, typer.Option("--top-k", help="Draw from the k likeliest tokens; 0: all.", min=0)
    ] = 50,
    max_tokens: Annotated[int, typer.Option(help="Most tokens drawn per circuit.", min=1)] = 2048,
    valid_only: Annotated[
        bool,
        typer.Option(
            "--valid-only", help="Keep drawing until N circuits parse with Qiskit (up to 5N tries)."
        ),
    ] = False,
    constrained: Annotated[
        bool,
        typer.Option(
            "--constrained",
            help="Grammar-constrained decoding: only tokens that keep the text canonical OpenQASM 2 "
            "for the register (every circuit parses).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the sampling.")] = 0,
    device: Annotated[str, typer.Option(help="Torch device: cpu, cuda.")] = "cpu",
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar.")] = True,
) -> None:
    """Draw circuits from a trained KetGPT, each from the header prompt
    OPENQASM 2.0; include "qelib1.inc"; qreg q[N];"""
    with cli_errors():
        from qml.generators.ketgpt import generate, load_generator, write_circuits

        gen = load_generator(model, device)
        texts = generate(
            gen,
            n,
            qubits=qubits,
            temperature=temperature,
            top_k=top_k or None,
            max_new_tokens=max_tokens,
            valid_only=valid_only,
            constrained=constrained,
            seed=seed,
            progress=progress,
        )
        if not texts:
            raise CliError(f"no circuit came out valid in {5 * n} tries; train the model longer")
        try:
            paths = write_circuits(texts, out)
        except OSError as exc:
            raise CliError(f"cannot write into {out}: {exc.strerror or exc}") from None
    typer.echo(f"{len(paths)} circuits written to {out}")


app.add_typer(generate_app, name="generate")
