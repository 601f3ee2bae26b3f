"""``python -m benchmarks.engine_bench [options]`` from the repository root (or, from anywhere,
``python <root>/benchmarks/engine_bench [options]``)."""

import sys
from pathlib import Path

if not __package__:  # run as a folder: import from the repository root, not from this folder
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from benchmarks.engine_bench.cli import entry_point  # noqa: E402

sys.exit(entry_point())
