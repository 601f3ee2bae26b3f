"""``ketml evaluate-circuits DIR``: the Agent-Q paper's four metrics for a folder of generated circuits.

``DIR`` holds ``<key>.qasm`` files and ``records.jsonl`` (``ketml generate llm`` writes both; or
give ``--records``). Each circuit is scored against its record: syntax validity, optimal most
probable state, KL divergence to the solution's distribution against 1,000 random parameter
draws, expectation gap within 0.2. The rows go to ``DIR/evaluation.jsonl``
(``pandas.read_json(path, lines=True)``); ``--json`` prints them as JSON lines, else the table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .app import app
from .common import CliError, cli_errors


def _table(s: dict) -> list[str]:
    pct = lambda k, n: f"{s[k]} ({100 * s[k] / max(n, 1):.1f} %)"  # noqa: E731
    if not s["valid"]:  # the means are over valid circuits: none to average
        return [
            f"samples                    {s['samples']}",
            f"syntactically valid        {pct('valid', s['samples'])}",
            "no valid circuit: no state, KL or expectation to score (see the rows' reasons)",
        ]
    return [
        f"samples                    {s['samples']}",
        f"syntactically valid        {pct('valid', s['samples'])}",
        f"correct most-probable state {pct('correct_state', s['samples'])}",
        f"mean KL generated / random {s['kl_generated']:.2f} / {s['kl_random']:.2f} "
        f"(ratio {s['kl_ratio']:.2f})",
        f"mean <H> gen / sol / random {s['expectation_generated']:.3f} / {s['expectation_solution']:.3f} / "
        f"{s['expectation_random']:.3f}",
        f"expectation success (0.2)  {pct('expectation_success', s['samples'])}",
    ]


@app.command("evaluate-circuits")
def evaluate_circuits(
    folder: Annotated[
        Path, typer.Argument(help="Folder of generated <key>.qasm files (ketml generate llm).")
    ],
    records: Annotated[
        Path | None, typer.Option(help="Records the circuits answer (default: FOLDER/records.jsonl).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every row as a JSON line.")] = False,
    n_random: Annotated[int, typer.Option(help="Random parameter draws for the KL baseline.", min=1)] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the random draws.")] = 0,
) -> None:
    """Score generated circuits with the paper's four metrics (report: FOLDER/evaluation.jsonl)."""
    with cli_errors():
        from qml.generators.llm.dataset import SCORE_FIELDS, check_records, read_records
        from qml.generators.llm.evaluate import evaluate_folder, summarise, write_report

        if not folder.is_dir():
            raise CliError(f"no folder {folder}")
        path = records or folder / "records.jsonl"
        if not path.is_file():
            raise CliError(f"no records at {path}: give --records FILE (the dataset the circuits answer)")
        recs = read_records(path)
        if not recs:
            raise CliError(f"{path} holds no records")
        check_records(recs, path, SCORE_FIELDS)
        rows = evaluate_folder(folder, recs, n_random=n_random, seed=seed)
        report = write_report(rows, folder / "evaluation.jsonl")
        summary = summarise(rows)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    for line in _table(summary):
        typer.echo(line)
    typer.echo(f"rows: {report}")
