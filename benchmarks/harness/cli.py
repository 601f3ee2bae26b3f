"""Command-line pieces of the benchmark scripts: the parser, ``--out``, ``--quick``, ``--threads``,
the resumable-entry options (``--runs``, ``--shard i/n``, ``--only``, ``--summarize``) and
``run_main``, which turns a failed cross-check into exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .crosscheck import CrossCheckError
from .results import RESULTS

#: exit status of a run whose cross-check failed
EXIT_CROSSCHECK = 2


def new_parser(
    doc: str | None, *, prog: str | None = None, defaults_in_help: bool = False
) -> argparse.ArgumentParser:
    """A parser whose description is the script's docstring, layout kept (or, with
    ``defaults_in_help``, each option's default shown in ``--help``)."""
    formatter = (
        argparse.ArgumentDefaultsHelpFormatter if defaults_in_help else argparse.RawDescriptionHelpFormatter
    )
    return argparse.ArgumentParser(prog=prog, description=doc, formatter_class=formatter)


def add_out(parser: argparse.ArgumentParser, default: Path = RESULTS, help: str = "results folder") -> None:
    """``--out``: the folder the result files go to (default ``benchmarks/results``)."""
    parser.add_argument("--out", type=Path, default=default, help=help)


def add_quick(parser: argparse.ArgumentParser, help: str) -> None:
    """``--quick``: the script's smoke-test settings (``help`` says which)."""
    parser.add_argument("--quick", action="store_true", help=help)


def add_threads(parser: argparse.ArgumentParser, help: str = "torch threads (default: all cores)") -> None:
    """``--threads N`` (default None: the script decides)."""
    parser.add_argument("--threads", type=int, default=None, help=help)


@dataclass(frozen=True)
class Shard:
    """Entries ``index``, ``index + count``, ``index + 2 * count``, ... of a list (``--shard i/n``)."""

    index: int = 0
    count: int = 1

    def holds(self, position: int) -> bool:
        return position % self.count == self.index


def parse_shard(text: str) -> Shard:
    """``"i/n"`` with ``0 <= i < n`` as a ``Shard``; anything else is an argparse error."""
    try:
        index, count = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes i/n (e.g. 0/2), not {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--shard {text}: need 0 <= i < n")
    return Shard(index, count)


def add_entry_options(
    parser: argparse.ArgumentParser,
    *,
    runs: Path,
    runs_help: str = "run folders",
    shard: bool = True,
    only_help: str = "entry ids to run (default: all)",
) -> None:
    """``--runs`` (checkpoints, resumed), ``--shard i/n``, ``--only ID ...``, ``--summarize``."""
    parser.add_argument("--runs", type=Path, default=runs, help=runs_help)
    if shard:
        parser.add_argument(
            "--shard", type=parse_shard, default=Shard(), help="i/n: run entries i, i+n, i+2n, ..."
        )
    parser.add_argument("--only", nargs="*", help=only_help)
    parser.add_argument("--summarize", action="store_true", help="only merge finished entries")


def select_entries(
    parser: argparse.ArgumentParser,
    ids: Sequence[str],
    *,
    only: Iterable[str] | None = None,
    shard: Shard = Shard(),
    known: Iterable[str] | None = None,
) -> list[str]:
    """The ids to run: those in ``shard`` and (if given) in ``only``, in list order. An id in
    ``only`` that is not in ``known`` (default ``ids``) is a usage error listing the known ones."""
    only = list(only or [])
    known = set(ids if known is None else known)
    unknown = [e for e in only if e not in known]
    if unknown:
        parser.error(f"unknown entry {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [e for k, e in enumerate(ids) if shard.holds(k) and (not only or e in only)]


def run_main(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a script's ``main``; a ``CrossCheckError`` prints ``CROSS-CHECK FAILED: ...`` on
    stderr and gives exit status 2 (anything else keeps its traceback)."""
    try:
        return main(argv)
    except CrossCheckError as exc:
        print(f"CROSS-CHECK FAILED: {exc}", file=sys.stderr, flush=True)
        return EXIT_CROSSCHECK
