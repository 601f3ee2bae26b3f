"""What every benchmark script shares: machine info, timing with budgets, command-line pieces,
result writing (JSON + markdown under ``benchmarks/results``), cross-checks and peer availability.

Nothing here imports torch, qiskit or ketml at module level, so a script can set its thread
options (``OMP_NUM_THREADS``, ...) before those runtimes load.
"""

from .cli import (
    Shard,
    add_entry_options,
    add_out,
    add_quick,
    add_threads,
    new_parser,
    parse_shard,
    run_main,
    select_entries,
)
from .crosscheck import CrossCheckError, max_abs_diff, require_agreement
from .machine import git_commit, launch_command, machine_info, machine_summary, package_version
from .memory import available_memory, cap_address_space, is_oom
from .peers import PeerUnavailable, import_peer, ketml_engine_status, require_engine, skip_reason
from .results import RESULTS, ROOT, EntryStore, markdown_table, write_json, write_results
from .timing import StepTimeout, deadline, is_timeout, log, median, time_call, time_repeats

__all__ = [
    "RESULTS",
    "ROOT",
    "CrossCheckError",
    "EntryStore",
    "PeerUnavailable",
    "Shard",
    "StepTimeout",
    "add_entry_options",
    "add_out",
    "add_quick",
    "add_threads",
    "available_memory",
    "cap_address_space",
    "deadline",
    "launch_command",
    "git_commit",
    "import_peer",
    "is_oom",
    "is_timeout",
    "ketml_engine_status",
    "log",
    "machine_info",
    "machine_summary",
    "markdown_table",
    "max_abs_diff",
    "median",
    "new_parser",
    "package_version",
    "parse_shard",
    "require_agreement",
    "require_engine",
    "run_main",
    "select_entries",
    "skip_reason",
    "time_call",
    "time_repeats",
    "write_json",
    "write_results",
]
