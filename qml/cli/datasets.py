"""``ketml datasets``: the data catalogue as a table (or JSON), with what is present here."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .app import app
from .common import cli_errors

_KINDS_HELP = (
    "images, time-series, bit-sequences, rl-environment, sentences, qasm-corpus, tables or molecules "
    "(case, plural and - or space do not matter)"
)


@app.command()
def datasets(
    kind: Annotated[
        str | None,
        typer.Option("--kind", "-k", help=f"Only datasets of this kind: {_KINDS_HELP}."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object per dataset: name, kind, description, looked_for, present, status, "
            "detail, how_to_get, loader, files (name, url, sha256, md5), requires, built_from, source, "
            "licence, size.",
        ),
    ] = False,
) -> None:
    """List every dataset ketml knows: its kind, where it is looked for, whether it is present here
    (files verified against their checksums; nothing is downloaded) and how to get it.

    Files live in $KETML_DATA/<folder> (default ~/.cache/ketml). Datasets without files are
    generated on the fly or come with a Python package.
    """
    with cli_errors():
        import data
        from data.registry import as_row

        rows = [as_row(d) for d in data.catalogue(kind)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"data folder: {data.data_home()}  (set KETML_DATA to change it)")
    header = {
        "name": "name",
        "kind": "kind",
        "present": "present",
        "looked_for": "looked for",
        "how": "how to get",
    }
    table = [
        {
            "name": r["name"],
            "kind": r["kind"],
            "present": ("yes" if r["present"] else "no") + f" ({r['status']})",
            "looked_for": r["looked_for"],
            "how": r["how_to_get"],
        }
        for r in rows
    ]
    widths = {k: max(len(str(row[k])) for row in [header, *table]) for k in header}
    for row in [header, *table]:
        typer.echo("  ".join(str(row[k]).ljust(widths[k]) for k in header).rstrip())
