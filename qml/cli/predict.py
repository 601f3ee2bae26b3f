"""``ketml predict RUN "sentence" ...``: class probabilities of new sentences from a trained run.

The run's model is rebuilt from its folder (the same reader, rewriters, ansatz and vocabulary as
in training) and reads the new sentences the same way; unknown words follow the run's policy
(``--unknown error``: one-line error naming them; ``unk``: the learned unknown-word twins).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .app import app
from .common import CliError, cli_errors


@app.command()
def predict(
    run: Annotated[Path, typer.Argument(help="A run folder written by 'ketml train qnlp'.")],
    sentences: Annotated[list[str], typer.Argument(help="Sentences to classify (quote each).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Class probabilities of SENTENCES under the sentence classifier trained in RUN."""
    with cli_errors():
        from qml.training.experiment import load_trained
        from qml.training.runs import read_run

        saved = read_run(run)
        if saved.get("task") != "qnlp":
            raise CliError(
                f"{run} is a {saved.get('task', saved['model'])} run; ketml predict reads qnlp runs"
            )
        from qml.qnlp.task import CLASSES, catalogue_name

        model, _ = load_trained(run)
        probs = model.predict_proba(sentences)
        classes = CLASSES[catalogue_name(saved["dataset"])]
    rows = [
        {
            "sentence": text,
            "prediction": classes[int(p.argmax())],
            "probabilities": {c: round(float(v), 6) for c, v in zip(classes, p, strict=True)},
        }
        for text, p in zip(sentences, probs, strict=True)
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        probs_text = "  ".join(f"{c}: {v:.4f}" for c, v in row["probabilities"].items())
        typer.echo(f"{row['prediction']:<18} {probs_text}  | {row['sentence']}")
