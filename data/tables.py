"""Small numeric tables: the ISO 9223/9224:2012 atmospheric-corrosion coefficients.

Transcribed from the standards' text (the numbers are facts; the PDFs are not redistributable),
for a synthetic corrosion generator; looked for in ``$KETML_DATA/corrosion/``.
"""

from __future__ import annotations

import csv
import functools
import os

from circuits.errors import ConfigurationError

from .cache import dataset_dir, ensure_files
from .registry import Dataset, files_from_sums, get, register

__all__ = ["load_table"]


def load_table(name: str, table: str, root: str | os.PathLike | None = None) -> list[dict[str, str]]:
    """The rows of one CSV file (``table`` is its name without ``.csv``) of a ``tables`` dataset."""
    entry = get(name)
    files = {f.name.removesuffix(".csv"): f for f in entry.files}
    if table not in files:
        raise ConfigurationError(f"{name} has the tables {', '.join(files)}; got {table!r}")
    (path,) = ensure_files(dataset_dir(entry.folder or entry.name, root), [files[table]], download=False)
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


register(
    Dataset(
        "corrosion-iso9223",
        "tables",
        "ISO 9223 dose-response coefficients (steel, zinc, copper, aluminium), ISO 9224 time "
        "exponents, aluminium corrosivity classes; no measured dataset exists publicly",
        functools.partial(load_table, "corrosion-iso9223"),
        files_from_sums(
            """\
6b5ee79d9b06bfe923186a42cea7e499b3fc62dea1d5c621312daae3202df0ab  iso9223_2012_dose_response_coefficients.csv
e727c4d470e2d092fe4c937b5d765a0a33c982238649ffbff925e6e50a75aa7f  iso9224_2012_time_exponents.csv
c40800ea31bc65829db5ff579c02aa2a3dde0d3a406ffc8cb7a225b7dd9f90d4  iso9223_2012_aluminium_categories.csv
"""
        ),
        folder="corrosion",
        source="DIN EN ISO 9223:2012-05 (Eq. 1-4, Tables 2, 3, A.1) and DIN EN ISO 9224:2012-05 (Table 3)",
        licence="numeric facts transcribed from the standards (no copyrighted text)",
        size="1 kB",
        how_to_get="no download: copy the verified corrosion/ folder into the data folder",
    )
)
