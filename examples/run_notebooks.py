"""Execute the tutorials in place so they are committed with their outputs (`make notebooks`).

Usage: python examples/run_notebooks.py [NOTEBOOK ...] [--quick] [--timeout SECONDS]
Without names, every ``examples/*.ipynb``. ``--quick`` sets KETML_QUICK=1 (the test suite's
settings); the committed notebooks are run without it. A notebook whose run fails is left as it
was (written only after a clean run, through a temporary file).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

EXAMPLES = Path(__file__).resolve().parent


def execute(path: Path, timeout: int) -> float:
    """Run ``path`` top to bottom in a scratch folder; rewrite it with outputs; seconds taken."""
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ketml-nb-") as scratch:
        nbclient.NotebookClient(
            notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": scratch}}
        ).execute()
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(notebook, tmp)
    tmp.replace(path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small settings (KETML_QUICK=1)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    if args.quick:
        os.environ["KETML_QUICK"] = "1"
    paths = args.notebooks or sorted(EXAMPLES.glob("*.ipynb"))
    failed = 0
    for path in paths:
        try:
            print(f"{path.name}: {execute(path, args.timeout):.0f} s", flush=True)
        except nbclient.exceptions.CellExecutionError as exc:
            failed += 1
            print(f"{path.name}: FAILED, left unchanged\n{str(exc)[-2000:]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
